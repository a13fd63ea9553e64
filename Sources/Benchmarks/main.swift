// Benchmark suites: `swift run -c release Benchmarks <suite>`; no argument lists the suites.
import Glibc
// Add a suite by writing `func run<Name>()` in its own file and one line in `suites`.

var args = Array(CommandLine.arguments.dropFirst())
// `--payload PREFIX` (before the suites): the wire suite writes its JSON payloads there for the
// orjson comparison of scripts/bench-wire.sh.
var payloadPrefix: String?
if args.count >= 2, args[0] == "--payload" {
    payloadPrefix = args[1]
    args.removeFirst(2)
}

let suites: [(name: String, summary: String, run: () throws -> Void)] = [
    ("engine", "autograd engine: tiny record/backward overhead loop, dot forward+backward, MLP step, dot/exp/add/sum timed for scripts/bench-engine.sh (vs numpy)", runEngine),
    ("wire", "1M tensor values: JSON encode/decode (scripts/bench-wire.sh compares with orjson)", { runWireBenchmark(payloadPrefix: payloadPrefix) }),
]

// `http-serve [--port N] [--workers N]` is the server side of scripts/bench-http.sh; it never returns.
if args.first == "http-serve" { HTTPBench.serve(Array(args.dropFirst())) }
if args.isEmpty {
    print("usage: Benchmarks [--payload PREFIX] <suite>...\nsuites:")
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
