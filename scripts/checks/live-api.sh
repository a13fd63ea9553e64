#!/usr/bin/env bash
# Runs the README's curl walkthrough (the blocks between <!-- walkthrough/run/error:start/end -->)
# against a freshly started tensord on an ephemeral loopback port and checks what they print;
# then calls every route once more and validates each response (status, media type, JSON body)
# against openapi.yaml; finally stops tensord with SIGTERM and checks it exits 0.
# Usage: bash scripts/checks/live-api.sh   (expects a built .build/debug/tensord, as test.sh leaves it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=.build/debug/tensord
[ -x "$bin" ] || swift build --product tensord >/dev/null

source scripts/start-tensord.sh
start_tensord "$bin" --workers 1

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

# Every route (and a sample of errors) once more, each response checked against openapi.yaml:
# the status is documented for the operation, the media type is one it lists, and a JSON body
# validates against its schema.
python3 - "http://127.0.0.1:$port" openapi.yaml <<'PY'
import json, sys, urllib.request, urllib.error
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

base, spec_path = sys.argv[1:3]
spec = yaml.safe_load(open(spec_path, encoding="utf-8"))
BASE = "urn:tensord:openapi"
def absolutise(node):
    if isinstance(node, dict):
        return {k: (BASE + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else absolutise(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [absolutise(v) for v in node]
    return node
registry = Registry().with_resource(BASE, Resource(contents=absolutise(spec), specification=DRAFT202012))
def deref(node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node

failures, checked = [], 0
def call(method, template, path, body=None, ctype="application/json", accept=None, status=None):
    global checked
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None: req.add_header("Content-Type", ctype)
    if accept: req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            code, rtype, raw = r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        code, rtype, raw = e.code, e.headers.get("Content-Type", ""), e.read()
    where = f"{method} {path} -> {code}"
    checked += 1
    if status is not None and code != status:
        failures.append(f"{where}: expected status {status}: {raw[:300]!r}")
    op = spec["paths"][template][method.lower()]
    response = op["responses"].get(str(code)) or op["responses"].get("default")
    if response is None:
        failures.append(f"{where}: status not documented for {method} {template}")
        return raw
    content = deref(response).get("content", {})
    if not content:
        if raw: failures.append(f"{where}: documented without a body but got {raw[:100]!r}")
        return raw
    media = rtype.split(";")[0].strip()
    if media not in content:
        failures.append(f"{where}: media type {media!r} not in {sorted(content)}")
        return raw
    schema = content[media].get("schema")
    if schema is not None and media.endswith("json"):
        v = Draft202012Validator(absolutise(schema), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for e in v.iter_errors(json.loads(raw)):
            failures.append(f"{where}: {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}")
    return raw

J = lambda raw: json.loads(raw)
S = "/v1/sessions/{sid}"
call("GET", "/livez", "/livez", status=200)
call("GET", "/readyz", "/readyz", status=200)
call("GET", "/openapi.yaml", "/openapi.yaml", status=200)
call("GET", "/v1/ops", "/v1/ops", status=200)
call("GET", "/v1/ops/{op}", "/v1/ops/broadcast_mul", status=200)
call("GET", "/v1/ops/{op}", "/v1/ops/nope", status=404)
sid = J(call("POST", "/v1/sessions", "/v1/sessions", {"idle_timeout_s": 60, "seed": 1, "labels": {"a": "b"}}, status=201))["id"]
s = f"/v1/sessions/{sid}"
call("GET", "/v1/sessions", "/v1/sessions", status=200)
call("GET", S, s, status=200)
call("GET", S + "/flags", s + "/flags", status=200)
call("PATCH", S + "/flags", s + "/flags", {"is_training": False}, status=200)
call("POST", S + "/seed", s + "/seed", {"seed": 3}, status=200)
call("POST", S + "/arrays", s + "/arrays", {"id": "x", "data": [[1, 2], [3, 4]]}, status=201)
call("POST", S + "/arrays", s + "/arrays", {"id": "u", "data": [0, 0, 0, 0], "shape": [2, 2]}, status=201)
call("POST", S + "/arrays", s + "/arrays", {"id": "n", "data": ["NaN", "Infinity", 1]}, status=201)
call("POST", S + "/arrays", s + "/arrays", {"id": "x", "data": [1]}, status=409)
call("POST", S + "/arrays", s + "/arrays", {"data": [1, 2, 3], "shape": [2]}, status=422)
call("POST", S + "/arrays", s + "/arrays", b"{", status=400)
call("POST", S + "/arrays", s + "/arrays", b"a=1", ctype="application/x-www-form-urlencoded", status=415)
call("GET", S + "/arrays", s + "/arrays?data=true", status=200)
call("GET", S + "/arrays/{aid}", s + "/arrays/x", status=200)
call("GET", S + "/arrays/{aid}", s + "/arrays/missing", status=404)
call("GET", S + "/arrays/{aid}/data", s + "/arrays/n/data", status=200)
npy = call("GET", S + "/arrays/{aid}/data", s + "/arrays/x/data", accept="application/x-npy", status=200)
if not npy.startswith(b"\x93NUMPY"): failures.append("npy response lacks the magic")
call("GET", S + "/arrays/{aid}/data", s + "/arrays/x/data", accept="image/png", status=406)
call("PUT", S + "/arrays/{aid}/data", s + "/arrays/u/data", {"data": [1, 1, 1, 1]}, status=200)
call("PUT", S + "/arrays/{aid}/data", s + "/arrays/u/data", npy, ctype="application/x-npy", status=200)
call("GET", S + "/arrays/{aid}/grad", s + "/arrays/x/grad", status=404)
call("PUT", S + "/arrays/{aid}/grad", s + "/arrays/x/grad", {"grad_req": "write"}, status=200)
call("POST", S + "/mark_variables", s + "/mark_variables", {"variables": ["u"], "gradients": ["n"], "grad_reqs": "write"}, status=422)
scope = J(call("POST", S + "/scopes", s + "/scopes", {"kind": "record"}, status=201))["id"]
call("GET", S + "/scopes", s + "/scopes", status=200)
call("POST", S + "/ops/{op}", s + "/ops/broadcast_mul", {"inputs": ["x", "x"], "ids": ["y"], "return_data": True}, status=201)
call("POST", S + "/ops/{op}", s + "/ops/sum", {"inputs": ["y"], "ids": ["z"]}, status=201)
call("POST", S + "/ops/{op}", s + "/ops/warp", {"inputs": ["y"]}, status=404)
call("PUT", S + "/arrays/{aid}/data", s + "/arrays/x/data", {"data": [0, 0, 0, 0]}, status=409)
call("DELETE", S + "/scopes/{scope_id}", s + "/scopes/nope", status=409)
call("DELETE", S + "/scopes/{scope_id}", s + f"/scopes/{scope}", status=200)
call("GET", S + "/arrays/{aid}/graph", s + "/arrays/z/graph", status=200)
call("GET", S + "/arrays/{aid}/graph", s + "/arrays/z/graph?format=svg", status=200)
call("GET", S + "/arrays/{aid}/graph", s + "/arrays/z/graph?format=dot", status=200)
call("GET", S + "/arrays/{aid}/graph", s + "/arrays/u/graph", status=409)
call("POST", S + "/grad", s + "/grad", {"heads": ["z"], "variables": ["x"], "retain_graph": True, "ids": ["dx"]}, status=201)
call("POST", S + "/backward", s + "/backward", {"heads": ["z"]}, status=200)
call("POST", S + "/backward", s + "/backward", {"heads": ["z"]}, status=409)
call("GET", S + "/arrays/{aid}/grad", s + "/arrays/x/grad", status=200)
call("POST", S + "/arrays/{aid}/detach", s + "/arrays/{aid}/detach".replace("{aid}", "y"), {"id": "yd"}, status=201)
fid = J(call("POST", S + "/functions", s + "/functions", {
    "forward": {"inputs": ["a"], "steps": [{"op": "_mul_scalar", "inputs": ["a"], "params": {"scalar": 2}, "id": "b"}], "outputs": ["b"]},
    "backward": {"inputs": ["g"], "steps": [{"op": "_mul_scalar", "inputs": ["g"], "params": {"scalar": 2}, "id": "h"}], "outputs": ["h"]}},
    status=201))["id"]
call("POST", S + "/functions/{fid}/call", s + f"/functions/{fid}/call", {"inputs": ["x"], "ids": ["x2"]}, status=201)
call("POST", S + "/functions/{fid}/call", s + f"/functions/{fid}/call", {"inputs": ["x"]}, status=409)
call("POST", S + "/run", s + "/run", {"steps": [{"create": {"data": [1, 2]}, "id": "r"}, {"attach_grad": "r"},
     {"scope": "record", "steps": [{"op": "broadcast_mul", "inputs": ["r", "r"], "id": "rr"}]}, {"backward": ["rr"]}],
     "fetch": ["r.grad", "rr"]}, status=200)
call("POST", S + "/run", s + "/run", {"steps": [{"scope": "record", "steps": [{"op": "broadcast_add", "inputs": ["r", "n"]}]}]}, status=422)
npz = call("GET", S + "/export", s + "/export", status=200)
if not npz.startswith(b"PK\x03\x04"): failures.append("npz export is not a zip archive")
call("GET", S + "/export", s + "/export", accept="application/json", status=406)
call("POST", S + "/import", s + "/import", npz, ctype="application/x-npz", status=409)
call("POST", S + "/import", s + "/import", b"not a zip", ctype="application/zip", status=400)
call("POST", S + "/import", s + "/import", b"{}", status=415)
sid2 = J(call("POST", "/v1/sessions", "/v1/sessions", {}, status=201))["id"]
call("POST", S + "/import", f"/v1/sessions/{sid2}/import", npz, ctype="application/x-npz", status=201)
call("DELETE", S, f"/v1/sessions/{sid2}", status=204)
call("POST", S + "/release", s + "/release", {"ids": ["r", "rr", "nope"]}, status=200)
call("DELETE", S + "/arrays/{aid}", s + "/arrays/yd", status=204)
call("DELETE", S, s, status=204)
call("GET", S, s, status=404)
call("PUT", "/v1/sessions", "/v1/sessions", {}, status=405) if "put" in spec["paths"]["/v1/sessions"] else None
for f in failures: print("live-api:", f, file=sys.stderr)
print(f"live-api: {checked} responses checked against openapi.yaml, {len(failures)} mismatches")
sys.exit(1 if failures else 0)
PY

kill -TERM "$pid"
status=0; wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || { echo "live-api: tensord exited with $status after SIGTERM" >&2; cat "$work/log" >&2; exit 1; }
grep -q '"msg":"stopped"' "$work/log" || { echo "live-api: no 'stopped' log line" >&2; exit 1; }
echo "live-api: README walkthrough ok on port $port ($(grep -c '"msg":"request"' "$work/log") requests logged), clean exit"
