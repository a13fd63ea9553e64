#!/usr/bin/env bash
# Property-based conformance: schemathesis generates requests from openapi.yaml (examples,
# coverage, fuzzing and stateful phases; the stateful one follows the spec's links with real
# session/array/scope/function ids) against the shared release tensord, and runs every check:
# no 5xx, every status/content type/header/body as documented, schema-violating requests
# rejected, schema-valid ones accepted. schemathesis 4 enables every check by default (`--checks
# all` on the command line would override the per-operation exceptions, so it is not passed); the
# exceptions, for rules JSON Schema cannot state, are listed and justified in
# scripts/schemathesis/schemathesis.toml. Bounded: a fixed seed, a per-operation example cap and
# a time budget. Fails on any failure or error, or if tensord logged a 5xx or exited.
# Usage: bash scripts/checks/schemathesis.sh   (env: ST_MAX_EXAMPLES, ST_MAX_TIME, ST_SEED)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/deps.sh
pip_ensure "schemathesis:schemathesis>=4.32,<5" numpy:numpy   # the config keys used are 4.x
bin=$(bash scripts/release-bin.sh)

source scripts/start-tensord.sh
start_tensord "$bin" --workers 2

# Fixtures, so that generated cases reach the success paths of the routes that name existing
# resources (a random sid/aid/fid/scope id only ever gets 404). Two sessions hold the same arrays,
# scopes and functions under the spec's example ids (x, xx, y, m, w, gw; sc0, sc1; f0-f3), so
# the examples phase hits them too; [parameters] in schemathesis.toml draws path ids from these
# with a probability < 1 (the rest stay generated, and the stateful phase still fills ids from
# links). Generated requests may change or consume the fixtures: deleteSession and deleteArray
# draw from spares only, and any other outcome (a function already called, a graph already
# freed, a popped scope) is a documented 4xx, not a failure.
api="http://127.0.0.1:$port/v1"
send() {   # send METHOD PATH JSON: fail the check unless 2xx, print the body
  curl -sSf -X "$1" "$api$2" -H 'Content-Type: application/json' -d "$3"
}
new_session() { send POST /sessions '{}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
fixture_session() {
  local s=$1 i
  send POST "/sessions/$s/arrays" '{"id":"x","data":[1,2,3,4]}' >/dev/null
  send PUT "/sessions/$s/arrays/x/grad" '{"grad_req":"write"}' >/dev/null
  send POST "/sessions/$s/arrays" '{"id":"m","dtype":"float64","data":[[1,2],[3,4]]}' >/dev/null
  send POST "/sessions/$s/arrays" '{"id":"w","data":[[1,2],[3,4]]}' >/dev/null
  send POST "/sessions/$s/arrays" '{"id":"gw","data":[[0,0],[0,0]]}' >/dev/null
  send POST "/sessions/$s/arrays" '{"id":"d0","data":[1]}' >/dev/null
  send POST "/sessions/$s/arrays" '{"id":"d1","data":[1]}' >/dev/null
  send POST "/sessions/$s/scopes" '{"kind":"train_mode"}' >/dev/null   # sc0
  send POST "/sessions/$s/scopes" '{"kind":"record"}' >/dev/null       # sc1: recording from here on
  send POST "/sessions/$s/ops/broadcast_mul" '{"inputs":["x","x"],"ids":["xx"]}' >/dev/null
  send POST "/sessions/$s/ops/_plus_scalar" '{"inputs":["xx"],"params":{"scalar":1},"ids":["y"]}' >/dev/null
  for i in 0 1 2 3; do   # f0-f3, each callable once: the spec's example function (a*a, gradient 2a)
    send POST "/sessions/$s/functions" '{"forward":{"inputs":["a"],"steps":[{"op":"broadcast_mul","inputs":["a","a"],"id":"sq"}],"outputs":["sq"]},"backward":{"inputs":["dsq"],"steps":[{"op":"_mul_scalar","inputs":["a"],"params":{"scalar":2},"id":"two_a"},{"op":"broadcast_mul","inputs":["dsq","two_a"],"id":"da"}],"outputs":["da"]}}' >/dev/null
  done
}
sessions=() spares=()
for _ in 1 2; do s=$(new_session); fixture_session "$s"; sessions+=("$s"); done
for _ in 1 2; do spares+=("$(new_session)"); done
quoted() { printf '"%s", ' "$@" | sed 's/, $//'; }
# The config schemathesis reads: the fixed settings plus the dictionaries of server-issued ids.
cp scripts/schemathesis/schemathesis.toml "$work/schemathesis.toml"
printf '\n[dictionaries.sessions]\nvalues = [%s]\n\n[dictionaries.spare-sessions]\nvalues = [%s]\n' \
  "$(quoted "${sessions[@]}")" "$(quoted "${spares[@]}")" >>"$work/schemathesis.toml"

start=$(date +%s)
status=0
SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$root/scripts/schemathesis${PYTHONPATH:+:$PYTHONPATH}" \
  python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "schemathesis"; schemathesis()' \
    --config-file "$work/schemathesis.toml" --no-color run openapi.yaml \
    --url "http://127.0.0.1:$port" --workers 1 \
    --seed "${ST_SEED:-20261128}" --max-examples "${ST_MAX_EXAMPLES:-40}" --max-time "${ST_MAX_TIME:-150}" \
    --generation-database none --request-timeout 10 \
    >"$work/out" 2>&1 || status=$?
elapsed=$(( $(date +%s) - start ))
if [ "$status" -ne 0 ]; then
  cat "$work/out" >&2
  echo "schemathesis: FAILED (exit $status, ${elapsed}s)" >&2
  exit 1
fi
grep -E '^(  (Selected|Tested)|  [^ ].*(Examples|Coverage|Fuzzing|Stateful))|generated|passed|⚠️' "$work/out" || true
kill -0 "$pid" 2>/dev/null || { echo "schemathesis: tensord exited during the run" >&2; tail -5 "$work/log" >&2; exit 1; }
# Any 5xx the server logged (the checks already fail on 5xx responses; this also catches panics).
if grep -q '"status":5[0-9][0-9]' "$work/log"; then
  grep '"status":5[0-9][0-9]' "$work/log" | head -5 >&2
  echo "schemathesis: the server logged 5xx responses" >&2
  exit 1
fi
echo "schemathesis: ok (${elapsed}s)"
