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

start=$(date +%s)
status=0
SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$root/scripts/schemathesis${PYTHONPATH:+:$PYTHONPATH}" \
  python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "schemathesis"; schemathesis()' \
    --config-file scripts/schemathesis/schemathesis.toml --no-color run openapi.yaml \
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
grep -E '^(  (Selected|Tested)|  [^ ].*(Examples|Coverage|Fuzzing|Stateful))|generated|passed' "$work/out" || true
kill -0 "$pid" 2>/dev/null || { echo "schemathesis: tensord exited during the run" >&2; tail -5 "$work/log" >&2; exit 1; }
# Any 5xx the server logged (the checks already fail on 5xx responses; this also catches panics).
if grep -q '"status":5[0-9][0-9]' "$work/log"; then
  grep '"status":5[0-9][0-9]' "$work/log" | head -5 >&2
  echo "schemathesis: the server logged 5xx responses" >&2
  exit 1
fi
echo "schemathesis: ok (${elapsed}s)"
