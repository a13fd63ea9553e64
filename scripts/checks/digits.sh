#!/usr/bin/env bash
# Real data end to end: builds tensord (release; TENSORD_BUILD_CONFIG=debug for a debug build),
# starts it on a free loopback port, installs scikit-learn if missing, runs
# examples/digits_mlp.py and examples/digits_cnn.py and fails if either test accuracy is below
# 95% (or a run takes over 4 minutes). The CNN is skipped, with a message, when the server's
# operator catalog has no Convolution/Pooling.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/deps.sh
ensure_build_deps
pip_ensure numpy:numpy sklearn:scikit-learn

if [ "${TENSORD_BUILD_CONFIG:-release}" = release ]; then
  bin=$(bash scripts/release-bin.sh)   # the one release build the checks share
else
  swift build --product tensord >&2
  bin="$(swift build --show-bin-path)/tensord"
fi

source scripts/start-tensord.sh
start_tensord "$bin"
export TENSORD_URL="http://127.0.0.1:$port"
export PYTHONPATH="$root/clients/python/src${PYTHONPATH:+:$PYTHONPATH}"

status=0
run_example() {  # name script
  local name=$1 script=$2
  echo "== $name" >&2
  if ! timeout 240 python3 "examples/$script" | tee "$work/$name.out"; then
    echo "digits: $name failed" >&2; status=1; return
  fi
  python3 - "$work/$name.out" "$name" <<'PY' || status=1
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("RESULT ")]
if not lines:
    sys.exit("digits: %s printed no RESULT line" % sys.argv[2])
acc = json.loads(lines[-1][len("RESULT "):])["test_accuracy"]
if acc < 0.95:
    sys.exit("digits: %s test accuracy %.2f%% is below 95%%" % (sys.argv[2], 100 * acc))
print("digits: %s test accuracy %.2f%% >= 95%%: ok" % (sys.argv[2], 100 * acc), file=sys.stderr)
PY
}

run_example digits_mlp digits_mlp.py
if curl -sf "$TENSORD_URL/v1/ops/Convolution" >/dev/null && curl -sf "$TENSORD_URL/v1/ops/Pooling" >/dev/null; then
  run_example digits_cnn digits_cnn.py
else
  echo "digits: SKIP digits_cnn: this tensord has no Convolution/Pooling operators yet" >&2
fi
exit $status
