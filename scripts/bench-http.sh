#!/usr/bin/env bash
# wrk against tensord's HTTP server and nginx, both serving {"ok":true} on loopback, in one run.
# Usage: bash scripts/bench-http.sh            (DURATION=10s CONNS="64 1" to change the runs)
# Besides wrk's req/s and latency it prints each server's CPU time per request (user+system, from
# /proc), which stays meaningful when other work shares the 2 cores and skews req/s.
# Needs: nginx-light, wrk (installed by scripts/deps.sh ensure_test_deps).
# The server side is `Benchmarks http-serve` (Sources/Benchmarks/HTTPBench.swift).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNS=${CONNS:-"64 1"}
NGINX_PORT=${NGINX_PORT:-18080}
TENSORD_PORT=${TENSORD_PORT:-18081}

command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "bench-http: needs wrk and nginx" >&2; exit 1; }
swift build -c release --product Benchmarks >/dev/null
BIN="$(swift build -c release --show-bin-path)/Benchmarks"

tmp=$(mktemp -d)
nginx_pid=""; tensord_pid=""
cleanup() {
  [ -n "$tensord_pid" ] && kill "$tensord_pid" 2>/dev/null && wait "$tensord_pid" 2>/dev/null || true
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/logs"
cat > "$tmp/nginx.conf" <<CONF
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log crit;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000;   # the same per-connection cap as tensord (nginx's default is 1000)
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
CONF
nginx -p "$tmp" -c "$tmp/nginx.conf" 2>/dev/null
# nginx daemonizes into its own session, hence its own scheduler autogroup; setsid gives tensord the
# same, so that neither server shares its CPU share with wrk (which matters when the machine is busy).
setsid "$BIN" http-serve --port "$TENSORD_PORT" &
tensord_pid=$!

sleep 0.3
if ! kill -0 "$tensord_pid" 2>/dev/null; then
  echo "bench-http: '$BIN http-serve' exited; Sources/Benchmarks/main.swift must call" \
       "HTTPBench.serve(Array(CommandLine.arguments.dropFirst(2))) when the first argument is http-serve" >&2
  exit 1
fi
for port in "$NGINX_PORT" "$TENSORD_PORT"; do
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$port/" | grep -q '"ok":true' || { echo "bench-http: server on $port not answering" >&2; exit 1; }
done

# wrk latency "123.45us" / "1.23ms" / "1.20s" -> microseconds
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'; }

# CPU seconds*ticks (user+system) used so far by the given pids
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo "$t"; }

run() {  # name port conns -> "rps p50us p99us cpu-us-per-request"
  local pids
  if [ "$1" = nginx ]; then pids=$(pgrep -P "$(cat "$tmp/nginx.pid")" | tr '\n' ' '); else pids=$tensord_pid; fi
  local before; before=$(cpu_ticks $pids)
  local out
  local threads=2; [ "$3" -lt 2 ] && threads=1   # wrk needs connections >= threads
  out=$(wrk -t"$threads" -c"$3" -d"$DURATION" --latency "http://127.0.0.1:$2/")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  local after; after=$(cpu_ticks $pids)
  local requests; requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  echo "$rps $(to_us "$p50") $(to_us "$p99") $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the 2 cores skews both servers)"
printf '%-8s %-6s %12s %10s %10s %12s\n' server conns "req/s" "p50(us)" "p99(us)" "cpu us/req"
for c in $CONNS; do
  read -r n_rps n_p50 n_p99 n_cpu < <(run nginx "$NGINX_PORT" "$c")
  printf '%-8s %-6s %12.0f %10.0f %10.0f %12s\n' nginx "c$c" "$n_rps" "$n_p50" "$n_p99" "$n_cpu"
  read -r t_rps t_p50 t_p99 t_cpu < <(run tensord "$TENSORD_PORT" "$c")
  printf '%-8s %-6s %12.0f %10.0f %10.0f %12s\n' tensord "c$c" "$t_rps" "$t_p50" "$t_p99" "$t_cpu"
  awk -v c="$c" -v a="$t_rps" -v b="$n_rps" -v p="$t_p50" -v q="$n_p50" -v r="$t_p99" -v s="$n_p99" -v x="$t_cpu" -v y="$n_cpu" \
    'BEGIN { printf "ratio tensord/nginx c%s: req/s %.2fx  p50 %.2fx  p99 %.2fx  cpu/req %.2fx\n", c, a / b, p / q, r / s, x / y }'
  # Result lines for scripts/bench.sh (docs/BENCHMARKS.md); the c64 rows carry the issue's targets.
  target_rps=null; target_p99=null; [ "$c" = 64 ] && { target_rps=0.8; target_p99=0.5; }
  printf 'BENCH {"name": "HTTP trivial JSON route c%s req/s", "unit": "req/s", "tensord": %s, "peer": %s, "peer_name": "nginx 2 workers", "higher_is_better": true, "target": %s, "target_text": ">= 0.8x nginx"}\n' "$c" "$t_rps" "$n_rps" "$target_rps"
  printf 'BENCH {"name": "HTTP trivial JSON route c%s p99", "unit": "us", "tensord": %s, "peer": %s, "peer_name": "nginx 2 workers", "higher_is_better": false, "target": %s, "target_text": "within 2x nginx"}\n' "$c" "$t_p99" "$n_p99" "$target_p99"
done
