#!/usr/bin/env bash
# Issue 7.1: the engine's float32 kernels vs numpy, same machine, same run.
#   bash scripts/bench-engine.sh
# Runs `Benchmarks engine` (release build) and times the same operations in numpy (pip): dot
# forward at 1024² and 2048² (OpenBLAS core selection; target >= 0.9x numpy's speed), and exp,
# same-shape add, (1000, 1000) + (1, 1000) broadcast add and a full sum on 1M elements (target:
# tensord's time <= 1.5x numpy's). Both sides report the best of N wall-clock runs, output
# allocation included. Prints side-by-side ratios and BENCH lines (format: scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
pip_ensure numpy:numpy
swift build -c release --product Benchmarks >&2
swift_out=$("$(swift build -c release --show-bin-path)/Benchmarks" engine)
echo "$swift_out"
SWIFT_OUT="$swift_out" python3 - <<'PY'
import json, os, time
import numpy as np
ours = {}
for line in os.environ["SWIFT_OUT"].splitlines():
    if line.startswith("measure engine."):
        ours[line.split()[1][len("engine."):]] = float(line.split()[2])
def best(f, runs):
    f()
    b = float("inf")
    for _ in range(runs):
        t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)
    return b * 1e3
rng = np.random.default_rng(1)
peer = {}
for n in (1024, 2048):
    a = (rng.random((n, n)) - 0.5).astype(np.float32); b = (rng.random((n, n)) - 0.5).astype(np.float32)
    peer[f"dot_{n}"] = best(lambda: a @ b, 20 if n == 1024 else 6)
big = (rng.random((1000, 1000)) - 0.5).astype(np.float32); row = (rng.random((1, 1000)) - 0.5).astype(np.float32)
peer["exp_1m"] = best(lambda: np.exp(big), 50)
peer["add_1m"] = best(lambda: big + big, 50)
peer["broadcast_add_1m"] = best(lambda: big + row, 50)
peer["sum_1m"] = best(lambda: big.sum(), 50)
print(f"numpy {np.__version__}; ratio = numpy time / tensord time (higher is better for tensord)")
for name, p in peer.items():
    t = ours.get(name)
    if t is None:
        print(f"engine.{name}: no tensord figure"); continue
    dot = name.startswith("dot")
    target = 0.9 if dot else round(1 / 1.5, 3)
    text = ">= 0.9x numpy's speed" if dot else "time <= 1.5x numpy's"
    print(f"engine.{name:18s} tensord {t:9.3f} ms   numpy {p:9.3f} ms   ratio {p / t:5.2f}x   target {text}: {'met' if p / t >= target else 'NOT met'}")
    print("BENCH " + json.dumps({"name": f"engine.{name}", "unit": "ms", "tensord": t, "peer": p, "peer_name": f"numpy {np.__version__}",
                                 "higher_is_better": False, "target": target, "target_text": text}))
PY
