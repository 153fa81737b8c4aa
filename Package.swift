// swift-tools-version: 6.0
// rbic: a typed runbook language for Internet Computer operations.
//
// The pipeline is one-way: Diagnostics ← Lexer ← Parser ← Check ← Runtime ← Backends ← Builtins ←
// Tooling ← Commands (the CLI as a library) ← rbic (its `main`).
// `Rbic` is the library product a host embeds; the `rbic` command is a client of it like any host,
// plus RbicTooling (the run and REPL sessions, saved plans, reports), which is not part of it: the
// command's sources type-check against those public declarations alone (a test says so).
import PackageDescription

let package = Package(
  name: "rbic",
  platforms: [.macOS(.v15)],
  products: [
    .library(
      name: "Rbic",
      targets: [
        "RbicBuiltins", "RbicBackends", "RbicRuntime", "RbicCheck", "RbicParser", "RbicDiagnostics",
      ]),
    .executable(name: "rbic", targets: ["rbic"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    // WasmParser only: a module's custom sections (`candid:service` metadata).
    .package(url: "https://github.com/swiftwasm/WasmKit", from: "0.4.2"),
    // `rbic mcp`, and its tests' client.
    .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
    // The MCP SDK's logging API (rbic mcp's own transport conforms to its `Transport`).
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
  ],
  targets: [
    .target(name: "RbicDiagnostics", path: "Sources/Diagnostics"),
    .systemLibrary(name: "CReadline", path: "Sources/CReadline", providers: [.apt(["libreadline-dev"])]),
    // readline's C globals are shared mutable state by nature; this small target touches them
    // from the main thread only, in Swift 5 mode, so the rest keeps Swift 6's strict checking.
    .target(
      name: "LineEditor", dependencies: ["CReadline"], path: "Sources/LineEditor",
      swiftSettings: [.swiftLanguageMode(.v5)]),
    .target(name: "RbicLexer", dependencies: ["RbicDiagnostics"], path: "Sources/Lexer"),
    // Candid written once: types, `.did` service descriptions, text values.
    .target(
      name: "RbicCandid",
      dependencies: ["RbicDiagnostics", .product(name: "WasmParser", package: "WasmKit")], path: "Sources/Candid"),
    .target(name: "RbicParser", dependencies: ["RbicLexer", "RbicDiagnostics"], path: "Sources/Parser"),
    // Types, signatures, the checker and the checked program: what a runbook means, before anything runs.
    .target(
      name: "RbicCheck",
      dependencies: [
        "RbicParser", "RbicLexer", "RbicCandid", "RbicDiagnostics", .product(name: "Yams", package: "Yams"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      path: "Sources/Check"),
    .target(
      name: "RbicRuntime",
      dependencies: [
        "RbicCheck", "RbicParser", "RbicLexer", "RbicCandid", "RbicDiagnostics",
        .product(name: "Yams", package: "Yams"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      path: "Sources/Runtime"),
    // The backends: the simulated IC, and the icp and dfx drivers (one dialect table per tool).
    .target(
      name: "RbicBackends",
      dependencies: [
        "RbicRuntime", "RbicCheck", "RbicLexer", "RbicCandid", "RbicDiagnostics",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Subprocess", package: "swift-subprocess"), .product(name: "Yams", package: "Yams"),
        .product(name: "SystemPackage", package: "swift-system"),
      ],
      path: "Sources/Backends"),
    // The standard builtins and actions, as registry entries.
    .target(
      name: "RbicBuiltins",
      dependencies: [
        "RbicBackends", "RbicRuntime", "RbicCheck", "RbicLexer", "RbicCandid", "RbicDiagnostics",
        .product(name: "Crypto", package: "swift-crypto"), .product(name: "Subprocess", package: "swift-subprocess"),
        .product(name: "Yams", package: "Yams"), .product(name: "SystemPackage", package: "swift-system"),
      ],
      path: "Sources/Builtins"),
    // What the command line builds on the library, outside the `Rbic` product (so never the
    // embedding API): the run and REPL sessions, saved plans, the backend setup, reports, the
    // builtins reference, run summaries, diff and doc, `rbic test`. Public only what the command uses.
    .target(
      name: "RbicTooling",
      dependencies: [
        "RbicBuiltins", "RbicBackends", "RbicRuntime", "RbicCheck", "RbicParser", "RbicLexer", "RbicCandid",
        "RbicDiagnostics",
        .product(name: "Yams", package: "Yams"),
      ],
      path: "Sources/Tooling"),
    // `rbic lsp`: the Language Server Protocol over stdio, on Codable.
    .target(
      name: "RbicLanguageServer",
      dependencies: [
        "RbicBuiltins", "RbicBackends", "RbicRuntime", "RbicCheck", "RbicParser", "RbicLexer", "RbicCandid",
        "RbicDiagnostics",
      ],
      path: "Sources/LanguageServer"),
    // The CLI's commands as a library; the `rbic` executable is its `main`.
    .target(
      name: "RbicCommands",
      dependencies: [
        "RbicTooling", "RbicBuiltins", "RbicBackends", "RbicRuntime", "RbicCheck", "RbicLexer", "RbicDiagnostics",
        "RbicParser",
        "RbicCandid", "LineEditor",
        "RbicLanguageServer", .product(name: "MCP", package: "swift-sdk"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Sources/Commands"),
    .executableTarget(name: "rbic", dependencies: ["RbicCommands"], path: "Sources/rbic"),
    .executableTarget(
      name: "rbic-test-double", dependencies: ["RbicBackends", "RbicBuiltins", "RbicRuntime", "RbicCandid"],
      path: "Sources/TestDouble"),
    .executableTarget(
      name: "rbic-bench",
      dependencies: ["RbicBackends", "RbicBuiltins", "RbicRuntime", "RbicCandid", "RbicLanguageServer"],
      path: "benchmarks/rbic-bench"),
    .testTarget(
      name: "RbicTests",
      dependencies: [
        "RbicBuiltins", "RbicBackends", "RbicRuntime", "RbicCheck", "RbicParser", "RbicLexer", "RbicCandid",
        "RbicDiagnostics",
        "RbicTooling", "RbicCommands", "rbic",
        "rbic-test-double", .product(name: "Yams", package: "Yams"), .product(name: "MCP", package: "swift-sdk"),
        .product(name: "SystemPackage", package: "swift-system"),
      ],
      path: "Tests/RbicTests",
      exclude: ["Corpus", "Candid", "Conformance"]),
  ]
)
