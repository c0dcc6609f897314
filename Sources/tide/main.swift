// tide: the REPL and script runner. Its flags follow lua5.4's:
//
//   tide                      REPL on a terminal; runs stdin otherwise
//   tide FILE.lua [args...]   runs a script (`arg` filled as lua5.4 does); also `tide run FILE`
//   tide -e 'stmt'            runs a statement        tide -l mod    require "mod" (global mod)
//   tide -i FILE              REPL after the script   tide -         runs stdin
//   tide -v / --version       version                 tide --help    usage
//   -E ignores TIDE_PATH/TIDE_INIT; -W turns warnings on.
import TideHost
import TideCore
import CLua
import _CTideShims
import _CTideREPL
import CMimalloc
#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: tide [options] [script [args]]
       tide run script [args]
Available options are:
  -e stat   execute string 'stat'
  -i        enter interactive mode after executing 'script'
  -l mod    require library 'mod' into global 'mod'
  -l g=mod  require library 'mod' into global 'g'
  -v        show version information
  -E        ignore environment variables (TIDE_PATH, TIDE_INIT)
  -W        turn warnings on
  --        stop handling options
  -         stop handling options and execute stdin
  --help    show this help
  --version show version information
"""

func fail(_ msg: String) -> Never {
    fputs("tide: \(msg)\n", stderr)
    exit(1)
}

var argv = CommandLine.arguments
if argv.count > 1 && argv[1] == "run" {
    guard argv.count > 2 else { fputs(usage + "\n", stderr); exit(1) }
    argv.remove(at: 1)
}

// ---- collect options (lua.c's collectargs) ------------------------------------------------
enum Action { case exec(String), lib(String) }
var actions: [Action] = []
var interactive = false, version = false, ignoreEnv = false, warnings = false
var scriptIndex: Int? = nil
var i = 1
optionLoop: while i < argv.count {
    let a = argv[i]
    if !a.hasPrefix("-") || a == "-" { scriptIndex = i; break }
    switch a {
    case "--": i += 1; if i < argv.count { scriptIndex = i }; break optionLoop
    case "--help", "-h": print(usage); exit(0)
    case "--version", "-v": version = true
    case "-i": interactive = true; version = true
    case "-E": ignoreEnv = true
    case "-W": warnings = true
    case "-e", "-l":
        i += 1
        guard i < argv.count else { fputs("tide: '\(a)' needs argument\n" + usage + "\n", stderr); exit(1) }
        actions.append(a == "-e" ? .exec(argv[i]) : .lib(argv[i]))
    default:
        if a.hasPrefix("-e") && a.count > 2 { actions.append(.exec(String(a.dropFirst(2)))) }
        else if a.hasPrefix("-l") && a.count > 2 { actions.append(.lib(String(a.dropFirst(2)))) }
        else { fputs("tide: unrecognized option '\(a)'\n" + usage + "\n", stderr); exit(1) }
    }
    i += 1
}

let host: TideHost
do {
    host = try TideHost(useEnvironment: !ignoreEnv)
} catch {
    fail("cannot create the Lua state: \(error)")
}
let L = host.vm.L
if warnings { _ = try? host.run("warn('@on')") }

// `arg` as lua5.4 fills it: arg[0] is the script, negatives the interpreter and options.
let base = scriptIndex ?? argv.count
var argTable: [LuaValue: LuaValue] = [:]
for (k, a) in argv.enumerated() { argTable[.integer(k - base)] = .string(a) }
host.setGlobal("arg", .table(argTable))

func report(_ error: Error) {
    fputs("tide: \(error)\n", stderr)
    fflush(stderr)
}

// Ctrl-C in a script interrupts it (hook + cancel flag) as lua.c does.
tide_repl_init(L)

if !ignoreEnv, let initCode = getenv("TIDE_INIT") {
    let s = String(cString: initCode)
    do {
        if s.hasPrefix("@") { try host.vm.run(file: String(s.dropFirst())) } else { try host.vm.run(string: s, chunkName: "=TIDE_INIT") }
    } catch { report(error); exit(1) }
}

// -v prints the version; -i implies it (as in lua5.4), but the REPL banner already says it
// (the mimalloc version is also the reference that keeps libmimalloc a needed library of this
// executable, so its malloc serves the whole process; see Sources/CMimalloc/shim.h)
let mimalloc = mi_version()
if version && !interactive {
    print("Tide \(TideVersion.string) (Lua 5.4, mimalloc \(mimalloc / 100).\(mimalloc / 10 % 10).\(mimalloc % 10))")
}

for act in actions {
    do {
        switch act {
        case .exec(let s): try host.vm.run(string: s, chunkName: "=(command line)")
        case .lib(let spec):
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let (g, mod) = parts.count == 2 ? (parts[0], parts[1]) : (spec, spec)
            try host.vm.run(string: "local g, m = ...; _G[g] = require(m)", chunkName: "=(command line)", args: [g, mod])
        }
    } catch { report(error); exit(1) }
}

func isTTY() -> Bool { isatty(0) != 0 }

/// All of standard input as text (for `tide -` and piped input).
func readStdin() -> String {
    var data: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(0, &buf, buf.count)
        if n <= 0 { break }
        data.append(contentsOf: buf[0 ..< n])
    }
    return String(decoding: data, as: UTF8.self)
}

if let si = scriptIndex {
    let script = argv[si]
    let scriptArgs = Array(argv[(si + 1)...])
    do {
        if script == "-" {
            try host.vm.run(string: readStdin(), chunkName: "=stdin", args: scriptArgs)
        } else {
            guard access(script, R_OK) == 0 else { fail("cannot open \(script)") }
            try host.run(file: script, args: scriptArgs)
        }
    } catch {
        report(error)
        exit(1)
    }
    if interactive { exit(REPL.run(host)) }
    exit(0)
}

if interactive || (actions.isEmpty && !version && isTTY()) {
    exit(REPL.run(host))
}
if actions.isEmpty && !version {
    // no script and stdin is not a terminal: run stdin, as lua5.4 does
    do { try host.vm.run(string: readStdin(), chunkName: "=stdin") } catch { report(error); exit(1) }
}
exit(0)
