// Benchmark suites: `swift run -c release Benchmarks <suite>`; no argument lists the suites.
import Glibc
// Add a suite by writing `func run<Name>()` in its own file and one line in `suites`.

let suites: [(name: String, summary: String, run: () throws -> Void)] = [
    ("engine", "autograd engine: tiny record/backward overhead loop, dot forward+backward, MLP step, dot/exp/add/sum timed for scripts/bench-engine.sh (vs numpy)", runEngine),
    ("wire", "1M tensor values: JSON encode/decode (scripts/bench-wire.sh compares with orjson)", { runWireBenchmark() }),
]

let args = CommandLine.arguments.dropFirst()
// `http-serve [--port N] [--workers N]` is the server side of scripts/bench-http.sh; it never returns.
if args.first == "http-serve" { HTTPBench.serve(Array(args.dropFirst())) }
if args.isEmpty {
    print("usage: Benchmarks <suite>...\nsuites:")
    for s in suites { print("  \(s.name)  \(s.summary)") }
} else {
    for name in args {
        guard let suite = suites.first(where: { $0.name == name }) else {
            print("unknown suite '\(name)'; known: \(suites.map(\.name).joined(separator: ", "))")
            exit(2)
        }
        try suite.run()
    }
}
