#!/usr/bin/env bash
# Issue 7.3: `.npy` upload (PUT .../data) and download (GET .../data, Accept: application/x-npy)
# of a 64 MiB float32 array through tensord over loopback, keep-alive, median of 7 runs each, side
# by side with nginx receiving the same body (PUT, read and dropped) and serving the same bytes
# as a static file. Target: >= 1 GiB/s each way (absolute).
# Usage: bash scripts/bench-npy.sh        (MIB=64 RUNS=7 to change)
# Needs: nginx-light (scripts/deps.sh ensure_test_deps). The client is scripts/bench_npy.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MIB=${MIB:-64}
RUNS=${RUNS:-7}
NGINX_PORT=${NGINX_PORT:-18082}

command -v nginx >/dev/null || { echo "bench-npy: needs nginx" >&2; exit 1; }
swift build -c release --product tensord >&2
bin="$(swift build -c release --show-bin-path)/tensord"
source scripts/start-tensord.sh
# The body limit must admit the array plus its .npy header.
start_tensord "$bin" --max-body-bytes $(((MIB + 1) * 1024 * 1024))

ngx=$(mktemp -d)
stop_nginx() { [ -f "$ngx/nginx.pid" ] && kill "$(cat "$ngx/nginx.pid")" 2>/dev/null || true; rm -rf "$ngx"; }
trap 'stop_nginx; [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$ngx/logs" "$ngx/www"
python3 scripts/bench_npy.py write "$ngx/www/array.npy" "$MIB"
chmod -R a+rX "$ngx"   # nginx workers may run as another user
cat > "$ngx/nginx.conf" <<CONF
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/logs/error.log crit;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $ngx/body;
  proxy_temp_path $ngx/proxy;
  fastcgi_temp_path $ngx/fastcgi;
  uwsgi_temp_path $ngx/uwsgi;
  scgi_temp_path $ngx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    client_max_body_size $((MIB + 1))m;
    root $ngx/www;
    location = /upload { return 204; }
  }
}
CONF
nginx -p "$ngx" -c "$ngx/nginx.conf" 2>/dev/null
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/array.npy" && break; sleep 0.1; done

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
t_out=$(timeout 300 python3 scripts/bench_npy.py tensord 127.0.0.1 "$port" "$MIB" "$RUNS")
n_out=$(timeout 300 python3 scripts/bench_npy.py nginx 127.0.0.1 "$NGINX_PORT" "$MIB" "$RUNS")
echo "tensord: $(tr '\n' ' ' <<<"$t_out")"
echo "nginx:   $(tr '\n' ' ' <<<"$n_out")"
for dir in upload download; do
  t=$(awk -v k="${dir}_MiBps" '$1 == k { print $2 }' <<<"$t_out")
  n=$(awk -v k="${dir}_MiBps" '$1 == k { print $2 }' <<<"$n_out")
  peer="nginx (PUT, body dropped)"; [ "$dir" = download ] && peer="nginx (static file)"
  # target_value: an absolute target in the row's unit (1 GiB/s), checked by bench_report.py.
  printf 'BENCH {"name": "npy %s %s MiB float32", "unit": "MiB/s", "tensord": %s, "peer": %s, "peer_name": "%s", "higher_is_better": true, "target_value": 1024, "target_text": ">= 1 GiB/s"}\n' \
    "$dir" "$MIB" "$t" "$n" "$peer"
done
