# Sourced by scripts that need a throwaway tensord: `start_tensord BIN [flags...]` starts BIN on a
# free loopback port (--port 0), waits for the port in its `listening` log line, and sets
# $port, $pid and $work (a temp dir holding the log); an EXIT trap stops it and removes $work.
start_tensord() {
  local bin=$1; shift
  work=$(mktemp -d)
  pid=""
  trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
  "$bin" --host 127.0.0.1 --port 0 "$@" 2>"$work/log" &
  pid=$!
  port=""
  for _ in $(seq 1 200); do
    port=$(sed -nE 's/.*"msg":"listening".*"port":([0-9]+).*/\1/p' "$work/log" | head -1)
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  echo "$(basename "$0"): tensord did not report its port" >&2
  cat "$work/log" >&2
  return 1
}
