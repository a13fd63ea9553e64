#!/usr/bin/env bash
# Training benchmark: the same MLP on scikit-learn's digits (same data, batch size, epochs and
# numpy-generated initial weights) trained in one run by MXNet 1.9.1 in-process and by tensord
# through the Python client; prints time per epoch, final loss and test accuracy of each, the
# ratio, and BENCH lines for the suite collector (see scripts/bench_train.py).
#
# MXNet lives in a virtualenv: $TENSORD_MXNET_VENV (default .venv-mxnet in the repository),
# created with mxnet==1.9.1 and numpy==1.23.5 when missing. tensord is built in release mode
# and started on a free loopback port.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/deps.sh
ensure_build_deps
pip_ensure numpy:numpy sklearn:scikit-learn

venv=${TENSORD_MXNET_VENV:-$root/.venv-mxnet}
if ! "$venv/bin/python" -c "import mxnet" >/dev/null 2>&1; then
  echo "bench-train: creating $venv with mxnet==1.9.1" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check mxnet==1.9.1 numpy==1.23.5 >&2
fi

swift build -c release --product tensord >&2
bin="$(swift build -c release --show-bin-path)/tensord"

source scripts/start-tensord.sh
start_tensord "$bin"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
python3 scripts/bench_train.py prepare "$work/data.npz"
TENSORD_URL="http://127.0.0.1:$port" PYTHONPATH="$root/clients/python/src" \
  timeout 600 "$venv/bin/python" -u scripts/bench_train.py run "$work/data.npz" "$@"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
