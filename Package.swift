// swift-tools-version: 6.0
//
// Tide: a numerical environment whose experiments are Lua scripts and whose engine is Swift.
// Layout and the rules behind it: ../shared/design/ARCHITECTURE.md (kept true by this file).
//
// No target here passes unsafe compiler or linker flags, so another package can depend on Tide
// by URL or path.
// Lua headers come from the headers-only `CLua`; only `TideHost` links liblua5.4.
import PackageDescription

/// The Lua half of the `tide` library, in load order (Sources/TideLua/lua/<name>.lua).
let luaLibrary = ["autograd", "tensor_api", "tensor_extras", "nn", "nn_containers", "nn_init", "functional", "nn_layers", "nn_moe", "nn_lora", "nn_attention", "optim", "train", "plot", "data", "models", "util"]

let package = Package(
    name: "Tide",
    products: [
        .executable(name: "tide", targets: ["tide"]),
        .library(name: "TideHost", targets: ["TideHost"]),
        .library(name: "TideCore", targets: ["TideCore"]),
        .library(name: "TideNN", targets: ["TideNN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        // System modules.
        .systemLibrary(name: "CLua", path: "Sources/CLua"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CReadline", path: "Sources/CReadline", pkgConfig: "readline",
                       providers: [.apt(["libreadline-dev"])]),
        // mimalloc, linked by the `tide` executable only (see Sources/CMimalloc/shim.h).
        .systemLibrary(name: "CMimalloc", path: "Sources/CMimalloc",
                       providers: [.apt(["libmimalloc-dev"])]),

        // C: the Lua call trampoline, allocator, cancel flag, macro wrappers.
        .target(name: "_CTideShims", dependencies: ["CLua", "_CTideKernels"], path: "Sources/_CTideShims"),
        // C: SIMD kernels with per-function target attributes and runtime dispatch.
        .target(name: "_CTideKernels", path: "Sources/_CTideKernels"),
        // C: readline glue for the REPL (line reading with Ctrl-C, completion, history).
        .target(name: "_CTideREPL", dependencies: ["CLua", "CReadline", "_CTideShims"],
                path: "Sources/_CTideREPL"),

        // Swift engine: knows nothing about Lua.
        .target(name: "TideCore", dependencies: ["COpenBLAS", "CZlib", "_CTideKernels",
                                              .product(name: "Numerics", package: "swift-numerics")],
                path: "Sources/TideCore"),
        // Swift learning layer: fused functional ops with derivatives, optimizer kernels.
        .target(name: "TideNN", dependencies: ["TideCore", "COpenBLAS", "_CTideKernels"], path: "Sources/TideNN"),
        // Swift solvers: tensor trains, robust TT recovery, IRS channel estimation, quantum state tomography.
        .target(name: "TideSolvers", dependencies: ["TideCore", "COpenBLAS",
                                                  .product(name: "Numerics", package: "swift-numerics")],
                path: "Sources/TideSolvers"),
        // The only Lua-aware Swift: VM wrapper and bindings.
        // Lua library files (lua/*.lua) are compiled into the binary; TIDE_LUA_DIR overrides
        // them from disk while developing.
        .target(name: "TideLua", dependencies: ["TideCore", "TideNN", "TideSolvers", "CLua", "_CTideShims"],
                path: "Sources/TideLua",
                resources: luaLibrary.map { .embedInCode("lua/\($0).lua") }),
        // The embeddable host: links liblua5.4.
        .target(name: "TideHost", dependencies: ["TideLua", "TideCore"],
                path: "Sources/TideHost",
                linkerSettings: [.linkedLibrary("lua5.4")]),
        .executableTarget(name: "tide", dependencies: ["TideHost", "_CTideREPL", "CMimalloc"],
                          path: "Sources/tide"),

        .testTarget(name: "TideCoreTests", dependencies: ["TideCore"],
                    path: "Tests/TideCoreTests"),
        .testTarget(name: "TideLuaTests", dependencies: ["TideHost", "TideCore"],
                    path: "Tests/TideLuaTests", exclude: ["lua"]),
    ],
    swiftLanguageModes: [.v5]
)
