#!/usr/bin/env bash
# Issue 7.2: 1M float32 values, JSON encode and decode, tensord's Wire vs Python orjson, same run.
#   bash scripts/bench-wire.sh
# Builds Wire as a separate release module (so calls cross the module boundary as in the service),
# links Sources/Benchmarks/WireBench.swift against it, runs it, then times orjson on the same values
# and the same payload bytes, and prints the ratios (>= 1.0 means tensord is at least as fast).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/wire-bench
mkdir -p "$out"
swiftc -O -wmo -parse-as-library -module-name Wire -emit-module -emit-module-path "$out/Wire.swiftmodule" \
  -emit-library -static -o "$out/libWire.a" Sources/Wire/*.swift
echo 'runWireBenchmark(payloadPath: CommandLine.arguments[1])' > "$out/main.swift"
swiftc -O -wmo -module-name WireBenchMain -I "$out" -L "$out" -lWire \
  Sources/Benchmarks/WireBench.swift "$out/main.swift" -o "$out/wire-bench"

swift_out=$("$out/wire-bench" "$out/payload.json")
echo "$swift_out"
enc=$(echo "$swift_out" | awk '/encode_f32_1M_ms/ {print $2}')
dec=$(echo "$swift_out" | awk '/decode_f32_1M_ms/ {print $2}')

python3 - "$out/payload.json" "$enc" "$dec" <<'PY'
import sys, time
try:
    import orjson
except ImportError:
    sys.exit("orjson is not installed (pip install orjson): no peer to compare with")
path, enc, dec = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
payload = open(path, "rb").read()
obj = orjson.loads(payload)
def best(f, n=7):
    b = float("inf")
    for _ in range(n):
        t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)
    return b * 1e3
dumps = best(lambda: orjson.dumps(obj))
loads = best(lambda: orjson.loads(payload))
print(f"orjson.dumps_f32_1M_ms {dumps:.2f} bytes={len(orjson.dumps(obj))} (orjson writes float64 digits)")
print(f"orjson.loads_f32_1M_ms {loads:.2f} (same payload bytes as tensord decodes)")
print(f"ratio encode orjson/tensord = {dumps/enc:.2f}x  (target >= 1.0)")
print(f"ratio decode orjson/tensord = {loads/dec:.2f}x  (target >= 1.0)")
PY
