#!/usr/bin/env bash
# Issue 7.4: the MXNet overhead loop (record { y = x*2+1 }; backward; x.grad.asnumpy() on a
# 4-element array) per iteration: real MXNet 1.9.1 in-process vs tensord.mx (pipelined session)
# and vs one `run` request per iteration, in one run. Targets: tensord.mx <= 2x MXNet's time,
# `run` <= 1x MXNet's.
# MXNet lives in $TENSORD_MXNET_VENV (default .venv-mxnet, created by scripts/bench.sh or here);
# without it the comparison is skipped with a message. The client is scripts/bench_overhead.py.
# Usage: bash scripts/bench-overhead.sh      (N=2000 ROUNDS=7 to change)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${TENSORD_MXNET_VENV:-$root/.venv-mxnet}
if ! "$venv/bin/python" -c "import mxnet" >/dev/null 2>&1; then
  echo "bench-overhead: creating $venv with mxnet==1.9.1" >&2
  { python3 -m venv "$venv" && "$venv/bin/python" -m pip install -q --disable-pip-version-check mxnet==1.9.1 numpy==1.23.5 >&2; } || true
fi
if ! "$venv/bin/python" -c "import mxnet" >/dev/null 2>&1; then
  echo "bench-overhead: MXNet 1.9.1 unavailable in $venv; skipping the overhead comparison" >&2
  exit 0
fi

swift build -c release --product tensord >&2
bin="$(swift build -c release --show-bin-path)/tensord"
source scripts/start-tensord.sh
start_tensord "$bin"

py() { TENSORD_URL="http://127.0.0.1:$port" PYTHONPATH="$root/clients/python/src" timeout 600 "$venv/bin/python" scripts/bench_overhead.py "$@" 2>/dev/null | awk '$1 == "us_per_iter" { print $2 }'; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
mxnet=$(py mxnet)
mx=$(py tensord-mx)
run=$(py tensord-run)
echo "us per iteration: MXNet in-process $mxnet, tensord.mx pipelined $mx, one run request $run"
awk -v a="$mx" -v b="$run" -v m="$mxnet" 'BEGIN { printf "ratio tensord.mx/MXNet %.2fx (target <= 2)  run/MXNet %.2fx (target <= 1)\n", a / m, b / m }'
printf 'BENCH {"name": "overhead loop tensord.mx pipelined", "unit": "us/iter", "tensord": %s, "peer": %s, "peer_name": "MXNet 1.9.1 in-process", "higher_is_better": false, "target": 0.5, "target_text": "<= 2x MXNet"}\n' "$mx" "$mxnet"
printf 'BENCH {"name": "overhead loop one run request", "unit": "us/iter", "tensord": %s, "peer": %s, "peer_name": "MXNet 1.9.1 in-process", "higher_is_better": false, "target": 1.0, "target_text": "<= 1x MXNet"}\n' "$run" "$mxnet"
