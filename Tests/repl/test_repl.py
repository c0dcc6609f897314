#!/usr/bin/env python3
"""Drives the `tide` REPL through a pseudo-terminal, as a person would.

Usage: test_repl.py PATH_TO_TIDE
Checks: banner, auto-print, ';' suppression, `_`, multi-line function definition, tab
completion (tide.ze<TAB>, x:nu<TAB>), ?help, error traceback and recovery, Ctrl-C at the
prompt, Ctrl-C during a Lua loop and during a long Swift kernel, history kept across runs,
Ctrl-D exit. Prints 'N passed, N failed' last; exits non-zero on any failure.
"""
import os
import sys
import tempfile
import time

import pexpect

TIDE = sys.argv[1]
passed = failed = 0


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception as e:  # noqa: BLE001 - report every failure and go on
        failed += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}")


hist_dir = tempfile.mkdtemp()
HIST = os.path.join(hist_dir, "hist")
env = dict(os.environ, TIDE_HISTORY=HIST, TERM="xterm")


def spawn():
    c = pexpect.spawn(TIDE, env=env, encoding="utf-8", timeout=20, dimensions=(40, 200))
    c.expect(r"Tide .*Ctrl-D exits")
    c.expect_exact("> ")
    return c


def t_autoprint():
    c = spawn()
    c.sendline("1 + 41")
    c.expect_exact("42")
    c.expect_exact("> ")
    c.sendline("2 * 3;")
    c.sendline("_")
    c.expect_exact("6")  # `_` kept the suppressed result
    c.expect_exact("> ")
    c.sendline("tide.ones(2)")
    c.expect_exact("[tide.Tensor f32 2]")
    c.sendeof()
    c.expect(pexpect.EOF)


def t_semicolon():
    c = spawn()
    c.sendline("777 + 1;")
    c.sendline("print('after')")
    c.expect_exact("after")
    assert "778" not in c.before, c.before
    c.expect_exact("> ")
    c.sendeof()
    c.expect(pexpect.EOF)


def t_multiline():
    c = spawn()
    c.sendline("function sq(x)")
    c.expect_exact(">> ")
    c.sendline("  return x * x")
    c.expect_exact(">> ")
    c.sendline("end")
    c.expect_exact("> ")
    c.sendline("sq(12)")
    c.expect_exact("144")
    c.sendeof()
    c.expect(pexpect.EOF)


def t_completion():
    c = spawn()
    c.send("tide.zeros_l\t")
    c.expect_exact("tide.zeros_like")
    c.sendline("")
    c.expect_exact("> ")
    c.sendline("x = tide.zeros(3);")
    c.expect_exact("> ")
    c.send("x:nu\t")
    c.expect_exact("x:numel")
    c.sendline("()")
    c.expect_exact("3")
    c.sendeof()
    c.expect(pexpect.EOF)


def t_help():
    c = spawn()
    c.sendline("?tide.zeros")
    c.expect_exact("tensor of zeros")
    c.expect_exact("> ")        # the next prompt: Ctrl-D before it races readline's setup
    c.sendeof()
    c.expect(pexpect.EOF)


def t_error_recovery():
    c = spawn()
    c.sendline("error('boom')")
    c.expect_exact("boom")
    c.expect_exact("stack traceback")
    c.expect_exact("> ")
    c.sendline("error({code = 7})")
    c.expect_exact("code = 7")
    c.sendline("1 + 2")
    c.expect_exact("3")
    c.sendeof()
    c.expect(pexpect.EOF)


def t_ctrl_c_prompt():
    c = spawn()
    time.sleep(0.3)  # a person types after the prompt appears
    c.send("this line is abandoned")
    c.expect_exact("abandoned")
    c.sendintr()
    c.expect_exact("> ")
    c.sendline("40 + 2")
    c.expect_exact("42")
    c.sendeof()
    c.expect(pexpect.EOF)


def interrupt(c):
    """Ctrl-C until the REPL reports the interruption (a loaded machine may still be reading
    the line when the first one lands, and then it only abandons the line)."""
    for _ in range(5):
        c.sendintr()
        try:
            c.expect_exact("interrupted!", timeout=4)
            return
        except pexpect.TIMEOUT:
            pass
    raise AssertionError("no 'interrupted!' after 5 Ctrl-C")


def t_ctrl_c_running():
    c = spawn()
    c.sendline("while true do end")
    c.expect_exact("while true do end")
    time.sleep(0.5)
    interrupt(c)
    c.expect_exact("> ")
    c.sendline("'alive'")
    c.expect_exact("alive")
    c.expect_exact("> ")  # Ctrl-D only once readline reads again: sent earlier, it can be lost
    c.sendeof()
    c.expect(pexpect.EOF)


def t_ctrl_c_kernel():
    # one long Swift kernel (a big elementwise loop over a broadcast), interrupted mid-way
    c = spawn()
    c.sendline("a = tide.ones(4000, 1); b = tide.ones(1, 4000);")
    c.expect_exact("> ")
    c.sendline("for i = 1, 1000 do local _ = a + b end")
    c.expect_exact("end")
    time.sleep(1.0)
    interrupt(c)
    c.expect_exact("> ")
    c.sendline("'alive'")
    c.expect_exact("alive")
    c.expect_exact("> ")  # Ctrl-D only once readline reads again: sent earlier, it can be lost
    c.sendeof()
    c.expect(pexpect.EOF)


def t_history():
    c = spawn()
    c.sendline("history_marker = 12345")
    c.expect_exact("> ")
    c.sendeof()
    c.expect(pexpect.EOF)
    with open(HIST) as f:
        assert "history_marker = 12345" in f.read()
    c = spawn()
    c.send("\x1b[A")  # up arrow recalls the previous session's line
    c.expect_exact("history_marker = 12345")
    c.sendline("")
    c.sendline("history_marker")
    c.expect_exact("12345")
    c.sendeof()
    c.expect(pexpect.EOF)


def t_ctrl_d():
    c = spawn()
    c.sendeof()
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0, c.exitstatus


for name, fn in [("auto-print and _", t_autoprint), ("trailing ; suppresses", t_semicolon),
                 ("multi-line function", t_multiline), ("tab completion", t_completion),
                 ("?help", t_help), ("error traceback and recovery", t_error_recovery),
                 ("Ctrl-C at the prompt", t_ctrl_c_prompt), ("Ctrl-C in a Lua loop", t_ctrl_c_running),
                 ("Ctrl-C in Swift kernels", t_ctrl_c_kernel), ("history across runs", t_history),
                 ("Ctrl-D exits 0", t_ctrl_d)]:
    check(name, fn)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
