// Readline glue for the tide REPL; see tide_repl.h.
#include "tide_repl.h"
#include "tide_shims.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>
#include <lua5.4/lauxlib.h>

static lua_State *repl_L = NULL;
static volatile sig_atomic_t in_readline = 0;
static volatile sig_atomic_t prompt_interrupted = 0;

static void on_sigint(int sig) {
  (void)sig;
  if (in_readline) { prompt_interrupted = 1; return; }
  if (repl_L) tide_interrupt(repl_L);
}

// ---- completion: ask the Lua function for candidates ------------------------------------

static char **candidates = NULL;
static int n_candidates = 0, next_candidate = 0;

static void clear_candidates(void) {
  for (int i = next_candidate; i < n_candidates; i++) free(candidates[i]);
  free(candidates);
  candidates = NULL; n_candidates = next_candidate = 0;
}

static int p_complete(lua_State *L) {
  // upvalue-free: args are (text, line); result is a table of strings
  lua_getfield(L, LUA_REGISTRYINDEX, "tide.repl.complete");
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  return 1;
}

static void collect(const char *text) {
  clear_candidates();
  lua_State *L = repl_L;
  if (!L) return;
  int top = lua_gettop(L);
  lua_pushcfunction(L, p_complete);
  lua_pushstring(L, text);
  lua_pushlstring(L, rl_line_buffer, (size_t)rl_point);
  if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TTABLE) {
    int n = (int)lua_rawlen(L, -1);
    candidates = (char **)calloc((size_t)n + 1, sizeof(char *));
    for (int i = 1; candidates && i <= n; i++) {
      lua_rawgeti(L, -1, i);
      const char *s = lua_tostring(L, -1);
      if (s) candidates[n_candidates++] = strdup(s);
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
}

static char *generator(const char *text, int state) {
  if (state == 0) collect(text);
  if (next_candidate < n_candidates) return candidates[next_candidate++];  /* readline frees it */
  return NULL;
}

static char **attempt_completion(const char *text, int start, int end) {
  (void)start; (void)end;
  rl_attempted_completion_over = 1;  /* no filename completion */
  return rl_completion_matches(text, generator);
}

// ---- line reading -------------------------------------------------------------------------

static char *got_line = NULL;
static int line_done = 0;

static void on_line(char *line) {
  got_line = line;
  line_done = 1;
  rl_callback_handler_remove();
}

void tide_repl_init(lua_State *L) {
  repl_L = L;
  rl_readline_name = "tide";
  rl_catch_signals = 0;
  rl_catch_sigwinch = 1;
  rl_attempted_completion_function = attempt_completion;
  rl_basic_word_break_characters = " \t\n\"\\'><=;+-*/%^~#{}()[],";
  rl_completion_append_character = '\0';
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  /* no SA_RESTART: select() must return EINTR */
  sigaction(SIGINT, &sa, NULL);
}

int tide_repl_readline(const char *prompt, char **out) {
  *out = NULL;
  got_line = NULL;
  line_done = 0;
  prompt_interrupted = 0;
  in_readline = 1;
  rl_callback_handler_install(prompt, on_line);
  int fd = fileno(rl_instream ? rl_instream : stdin);
  /* SIGINT stays blocked except inside pselect, so a Ctrl-C that lands while readline is
     busy is seen at the next check instead of being lost until the next key press. */
  sigset_t block, orig;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &orig);
  while (!line_done) {
    if (prompt_interrupted) {
      in_readline = 0;
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_callback_handler_remove();
      fputs("\n", rl_outstream ? rl_outstream : stdout);
      fflush(stdout);
      sigprocmask(SIG_SETMASK, &orig, NULL);
      return -1;
    }
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    int r = pselect(fd + 1, &fds, NULL, NULL, NULL, &orig);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    rl_callback_read_char();
  }
  in_readline = 0;
  sigprocmask(SIG_SETMASK, &orig, NULL);
  if (!line_done) { rl_callback_handler_remove(); return 0; }
  if (got_line == NULL) return 0;
  *out = got_line;
  return 1;
}

void tide_repl_free(char *line) { free(line); }
void tide_repl_add_history(const char *line) { add_history(line); }
int tide_repl_read_history(const char *path) { return read_history(path); }

int tide_repl_append_history(const char *path, int max) {
  if (access(path, F_OK) != 0) {
    FILE *f = fopen(path, "w");
    if (!f) return errno;
    fclose(f);
  }
  int rc = append_history(1, path);
  if (rc == 0) history_truncate_file(path, max);
  return rc;
}
