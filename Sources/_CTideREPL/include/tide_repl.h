// _CTideREPL: readline glue for the `tide` REPL. No stable API.
//
// Line reading uses readline's callback interface around select(), as CPython does, so a
// Ctrl-C at the prompt abandons the line cleanly instead of longjmp-ing out of readline.
// One SIGINT handler serves both places: at the prompt it cancels the line; while a command
// runs it calls tide_interrupt (hook + cancel flag for Swift kernels).
#ifndef TIDE_REPL_H
#define TIDE_REPL_H
#include <lua5.4/lua.h>

// Sets up readline (completion through the Lua function stored at registry key
// "tide.repl.complete", which takes the text to complete and the line so far and returns a
// table of candidates) and installs the SIGINT handler for state L.
void tide_repl_init(lua_State *L);
// 1: a line in *out (malloc'ed, free with tide_repl_free); 0: end of input; -1: Ctrl-C.
int tide_repl_readline(const char *prompt, char **out);
void tide_repl_free(char *line);
void tide_repl_add_history(const char *line);
// Loads history from path (missing file is fine); returns 0 on success.
int tide_repl_read_history(const char *path);
// Appends the newest entry to the file and trims it to max entries.
int tide_repl_append_history(const char *path, int max);
#endif
