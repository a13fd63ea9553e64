#!/usr/bin/env bash
# Runs the README's curl walkthrough (the blocks between <!-- walkthrough/run/error:start/end -->)
# against a freshly started tensord on an ephemeral loopback port, checks what they print, then
# stops tensord with SIGTERM and checks it exits 0.
# Usage: bash scripts/checks/live-api.sh   (expects a built .build/debug/tensord, as test.sh leaves it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=.build/debug/tensord
[ -x "$bin" ] || swift build --product tensord >/dev/null

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin" --port 0 --workers 1 2>"$work/log" &
pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -nE 's/.*"msg":"listening".*"port":([0-9]+).*/\1/p' "$work/log" | head -1)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "live-api: tensord did not report its port" >&2; cat "$work/log" >&2; exit 1; }

# The README's blocks, with T pointing at this instance.
block() { sed -n "/<!-- $1:start -->/,/<!-- $1:end -->/p" README.md | sed '/^```/d; /^<!--/d'; }
{
  echo "set -euo pipefail"
  block walkthrough | sed -E "s#^T=.*#T=http://127.0.0.1:$port#"
  echo 'echo "=== run"'
  block run
  echo 'echo "=== error"'
  block error
} >"$work/walkthrough.sh"
bash "$work/walkthrough.sh" >"$work/out"

fail() { echo "live-api: $1" >&2; cat "$work/out" >&2; exit 1; }
sed -n '1,/=== run/p' "$work/out" | grep -q '^{"shape":\[4\],"dtype":"float32","data":\[2.0,4.0,6.0,8.0\]}$' \
  || fail "walkthrough did not print x.grad = [2,4,6,8]"
sed -n '/=== run/,/=== error/p' "$work/out" | grep -q '"fetched":{"x.grad":{"shape":\[4\],"dtype":"float32","data":\[2.0,4.0,6.0,8.0\]}}' \
  || fail "run did not fetch x.grad = [2,4,6,8]"
sed -n '/=== error/,$p' "$work/out" | grep -q '"code":"graph-freed"' || fail "second backward did not answer graph-freed"

kill -TERM "$pid"
status=0; wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || { echo "live-api: tensord exited with $status after SIGTERM" >&2; cat "$work/log" >&2; exit 1; }
grep -q '"msg":"stopped"' "$work/log" || { echo "live-api: no 'stopped' log line" >&2; exit 1; }
echo "live-api: README walkthrough ok on port $port ($(grep -c '"msg":"request"' "$work/log") requests logged), clean exit"
