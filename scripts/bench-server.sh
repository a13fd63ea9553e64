#!/usr/bin/env bash
# Issue 7.5: the server's request path for a small op (y = x + 1 on 4 elements, written into an
# existing array, keep-alive, loopback).
#  - server-side p50: the service's own duration of each op request (route, JSON decode, the
#    session's work, response encoding; the `duration_us` of its request log), K requests one at
#    a time; the client round trip p50 is printed too. Target <= 30 us; the peer is one MXNet
#    imperative op in-process (skipped without $TENSORD_MXNET_VENV).
#  - scaling: wrk on 1 connection (1 session) vs 2 connections (2 sessions, one each), req/s
#    ratio. On 2 cores wrk shares the CPUs with the server, so 2x is out of reach; target 1.5x.
# Usage: bash scripts/bench-server.sh      (K=5000 DURATION=5s)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
K=${K:-5000}
DURATION=${DURATION:-5s}
command -v wrk >/dev/null || { echo "bench-server: needs wrk" >&2; exit 1; }
swift build -c release --product tensord >&2
bin="$(swift build -c release --show-bin-path)/tensord"
source scripts/start-tensord.sh
start_tensord "$bin"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
mapfile -t sids < <(python3 scripts/bench_server.py setup 127.0.0.1 "$port" 2)
since=$(wc -l < "$work/log")
client=$(python3 scripts/bench_server.py latency 127.0.0.1 "$port" "${sids[0]}" "$K")
server=$(python3 scripts/bench_server.py p50 "$work/log" "$since")
echo "$server; $client"
t_p50=$(awk '{ print $2 }' <<<"$server")

venv=${TENSORD_MXNET_VENV:-$root/.venv-mxnet}
m_p50=null
if "$venv/bin/python" -c "import mxnet" >/dev/null 2>&1; then
  m_p50=$("$venv/bin/python" scripts/bench_server.py mxnet "$K" 2>/dev/null | awk '{ print $2 }')
  echo "MXNet in-process, one op (x * 2, waited for): p50 $m_p50 us"
fi
printf 'BENCH {"name": "small op request, server-side p50", "unit": "us", "tensord": %s, "peer": %s, "peer_name": "MXNet 1.9.1 one op in-process", "higher_is_better": false, "target_value": 30, "target_text": "<= 30 us"}\n' "$t_p50" "$m_p50"

cat > "$work/op.lua" <<'LUA'
-- Each wrk thread posts the op to its own session (SIDS: space-separated, one per thread).
local n = 0
local sids = {}
for s in string.gmatch(os.getenv("SIDS"), "%S+") do sids[#sids + 1] = s end
function setup(thread)
  n = n + 1
  thread:set("sid", sids[(n - 1) % #sids + 1])
end
function init(args)
  req = wrk.format("POST", "/v1/sessions/" .. sid .. "/ops/_plus_scalar",
                   {["Content-Type"] = "application/json"}, '{"inputs":["x"],"params":{"scalar":1},"out":"y"}')
end
function request() return req end
LUA
rps() { SIDS="$2" wrk -t"$1" -c"$1" -d"$DURATION" -s "$work/op.lua" "http://127.0.0.1:$port" | awk '/^Requests\/sec:/ { print $2 }'; }
one=$(rps 1 "${sids[0]}")
two=$(rps 2 "${sids[*]}")
echo "op requests/s: 1 connection (1 session) $one, 2 connections (2 sessions) $two"
awk -v a="$two" -v b="$one" 'BEGIN { printf "scaling 2 sessions / 1 session: %.2fx (target >= 1.5)\n", a / b }'
printf 'BENCH {"name": "op req/s, 2 sessions vs 1", "unit": "req/s", "tensord": %s, "peer": %s, "peer_name": "tensord, 1 session", "higher_is_better": true, "target": 1.5, "target_text": ">= 1.5x with 2 sessions"}\n' "$two" "$one"
