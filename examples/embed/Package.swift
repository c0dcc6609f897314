// swift-tools-version: 6.0
// A Swift program that embeds Tide: depends on the Tide package by path, exactly as an
// outside project would (by URL or path).
import PackageDescription

let package = Package(
    name: "embed",
    dependencies: [.package(name: "Tide", path: "../..")],
    targets: [
        .executableTarget(name: "embed", dependencies: [
            .product(name: "TideHost", package: "Tide"),
            .product(name: "TideCore", package: "Tide"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
