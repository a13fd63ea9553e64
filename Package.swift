// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tensord",
    products: [
        .executable(name: "tensord", targets: ["tensord"]),
    ],
    targets: [
        // MARK: - System libraries (each wrapped by one Swift file)
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLinux"),   // epoll/eventfd (server event loop), malloc_trim (service)

        /// Vectorised element-wise/reduction loops (per-ISA variants), CPUID, fallback GEMM. OpenBLAS
        /// itself is not linked: Autograd loads it with dlopen after choosing its core (Kernels/BLAS.swift).
        /// Optimised even in debug builds so tests run the same vectorised code as releases.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),

        // MARK: - Libraries
        /// Pure tensor + MXNet-style autograd engine (no I/O, no Foundation).
        .target(name: "Autograd", dependencies: ["CKernels"]),
        /// Pure HTTP/1.1 codec and router: bytes in, values out.
        .target(name: "HTTP", dependencies: ["CZlib"]),
        /// The socket edge: POSIX sockets, Dispatch, timeouts, TLS.
        .target(name: "HTTPServer", dependencies: ["HTTP", "COpenSSL", "CLinux"]),
        /// Pure wire formats: fast JSON (tensor data), .npy/.npz, problem+json.
        .target(name: "Wire"),
        /// Pure graph layout and SVG/DOT rendering of recorded histories.
        .target(name: "GraphRender"),
        /// Routes, sessions and the REST API over the engine.
        .target(name: "Service", dependencies: ["Autograd", "HTTP", "Wire", "GraphRender", "COpenSSL", "CLinux"]),

        // MARK: - Executables
        .executableTarget(name: "tensord", dependencies: ["Service", "HTTPServer", "Autograd", "Wire"]),
        .executableTarget(name: "Benchmarks", dependencies: ["Autograd", "HTTP", "HTTPServer", "Wire", "Service"]),
        .executableTarget(name: "Fuzz", dependencies: ["Autograd", "HTTP", "Wire", "Service"]),

        // MARK: - Tests
        .testTarget(name: "AutogradTests", dependencies: ["Autograd"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTP"]),
        .testTarget(name: "WireTests", dependencies: ["Wire"]),
        .testTarget(name: "GraphRenderTests", dependencies: ["GraphRender"]),
        .testTarget(name: "ServiceTests", dependencies: ["Service", "HTTP", "HTTPServer", "Wire", "Autograd"]),
        /// Replays Fuzz/Corpus and Fuzz/Regressions through the fuzz harnesses (no fuzzer needed).
        .testTarget(name: "FuzzTests", dependencies: ["Fuzz"]),
    ]
)
