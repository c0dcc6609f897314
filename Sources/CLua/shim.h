// Lua 5.4 headers only. No `link` line: only TideHost links liblua5.4, so a module
// loaded into a stock lua5.4 binary never drags a second Lua core in.
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lualib.h>
