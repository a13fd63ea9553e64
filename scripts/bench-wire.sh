#!/usr/bin/env bash
# Issue 7.2: 1M tensor values, JSON encode and decode, tensord's Wire vs Python orjson, same run.
#   bash scripts/bench-wire.sh
# Runs the `wire` suite of the release Benchmarks binary (Sources/Benchmarks/WireBench.swift, which
# calls Wire across the module boundary as the service does), then times orjson on the same values
# and the same payload bytes, and prints the ratios (>= 1.0 means tensord is at least as fast).
# Both sides report the best of 7 runs in thread CPU time (robust against other load on the box).
# The target is float32; float64 is reported for information.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/wire-bench
mkdir -p "$out"
swift build -c release --product Benchmarks >&2
bin="$(swift build -c release --show-bin-path)/Benchmarks"

swift_out=$("$bin" --payload "$out/payload" wire)
echo "$swift_out"
SWIFT_OUT="$swift_out" python3 - "$out/payload" <<'PY'
import json, os, sys, time
try:
    import orjson
except ImportError:
    sys.exit("orjson is not installed (pip install orjson): no peer to compare with")
ours = {line.split()[0]: float(line.split()[1]) for line in os.environ["SWIFT_OUT"].splitlines() if line.strip()}
def best(f, n=7):
    b = float("inf")
    for _ in range(n):
        t = time.thread_time(); f(); b = min(b, time.thread_time() - t)
    return b * 1e3
for name in ("f32", "f64"):
    payload = open(f"{sys.argv[1]}-{name}.json", "rb").read()
    obj = orjson.loads(payload)
    dumps = best(lambda: orjson.dumps(obj))
    loads = best(lambda: orjson.loads(payload))
    enc, dec = ours[f"wire.json.encode_{name}_1M_ms"], ours[f"wire.json.decode_{name}_1M_ms"]
    target = "(target >= 1.0)" if name == "f32" else "(information)"
    print(f"orjson.dumps_{name}_1M_ms {dumps:.2f}  orjson.loads_{name}_1M_ms {loads:.2f} (same values / same payload bytes)")
    print(f"ratio {name} encode orjson/tensord = {dumps/enc:.2f}x  decode = {loads/dec:.2f}x  {target}")
    goal = 1.0 if name == "f32" else None
    for op, ours_ms, peer_ms in (("encode", enc, dumps), ("decode", dec, loads)):
        print("BENCH " + json.dumps({"name": f"JSON {op} 1M {name}", "unit": "ms", "tensord": ours_ms, "peer": peer_ms,
                                     "peer_name": "orjson", "higher_is_better": False, "target": goal,
                                     "target_text": ">= orjson" if goal else "information"}))
PY
