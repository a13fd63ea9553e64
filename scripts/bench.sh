#!/usr/bin/env bash
# The benchmark suite (`make bench`): builds in release mode, installs what the peers need (numpy,
# orjson, wrk, nginx, MXNet 1.9.1 in its own virtualenv), runs every side-by-side comparison, and
# writes docs/BENCHMARKS.md (table: tensord, peer, ratio, target) and docs/benchmarks.png.
#
# Each scripts/bench-*.sh prints result lines of the form
#   BENCH {"name": "...", "unit": "...", "tensord": 1.0, "peer": 2.0, "peer_name": "...",
#          "higher_is_better": true, "target": 0.8, "target_text": ">= 0.8x nginx"}
# and anything else it likes; the ratio is tensord/peer (or peer/tensord when lower is better),
# so a ratio >= target means the target is met. An absolute target instead of a ratio:
#   "target_value": 1024 (in the row's unit; met when tensord reaches it, whatever the peer did).
# Usage: bash scripts/bench.sh [name-filter]
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_test_deps
pip_ensure orjson:orjson matplotlib:matplotlib
export TENSORD_MXNET_VENV="${TENSORD_MXNET_VENV:-$PWD/.venv-mxnet}"
if [ ! -x "$TENSORD_MXNET_VENV/bin/python" ] || ! "$TENSORD_MXNET_VENV/bin/python" -c 'import mxnet' 2>/dev/null; then
  echo "bench: creating $TENSORD_MXNET_VENV with mxnet==1.9.1 numpy==1.23.5" >&2
  python3 -m venv "$TENSORD_MXNET_VENV" && "$TENSORD_MXNET_VENV/bin/pip" install -q mxnet==1.9.1 numpy==1.23.5 >&2 \
    || echo "bench: MXNet unavailable; MXNet comparisons will be skipped" >&2
fi
swift build -c release >&2 || exit 1

out=$(mktemp); trap 'rm -f "$out"' EXIT
for b in scripts/bench-*.sh; do
  [ -e "$b" ] || continue
  [ -n "${1:-}" ] && [[ "$b" != *"$1"* ]] && continue
  echo "== $b" >&2
  bash "$b" 2>&1 | tee -a "$out" >&2 || echo "bench: $b failed" >&2
done
mkdir -p .build && cp "$out" .build/bench-output.txt   # the raw lines, to regenerate the report
python3 scripts/bench_report.py "$out" docs/BENCHMARKS.md docs/benchmarks.png
