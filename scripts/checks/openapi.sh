#!/usr/bin/env bash
# Validates openapi.yaml (openapi-spec-validator) and lints it against the project's rules:
#  - operationIds unique and verb-first camelCase;
#  - every path-template parameter declared (required, in: path), and no undeclared extras;
#  - every 4xx/5xx response is application/problem+json with a Problem schema, and the codes it
#    narrows to have that status in docs/API.md's error table;
#  - every request/response media type has an example, and every example validates against its
#    schema (JSON Schema 2020-12; .npy examples must load with numpy);
#  - problem examples: type = https://tensord.dev/problems/<code>, status = the response's status;
#  - the ErrorCode enum equals docs/API.md's error table; each code has a docs/ERRORS.md section
#    with a **Status:** line matching that table and an example body that is a valid Problem;
#  - the (method, path) pairs equal docs/API.md's route tables; no unreferenced components
#    (responses excepted: not-found/method-not-allowed apply to no operation).
# Usage: bash scripts/checks/openapi.sh [SPEC]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
spec=$(realpath "${1:-$root/openapi.yaml}")
cd "$root"
source scripts/deps.sh
# jsonschema and referencing (used below) come with openapi-spec-validator.
pip_ensure openapi_spec_validator:openapi-spec-validator yaml:PyYAML numpy:numpy

if ! out=$(python3 -m openapi_spec_validator "$spec" 2>&1); then echo "$out" >&2; exit 1; fi
echo "openapi: $spec is a valid OpenAPI document"

python3 - "$spec" docs/API.md docs/ERRORS.md <<'PY'
import io, json, re, sys
import yaml
import numpy as np
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

sys.path.insert(0, "scripts")
from openapi_routes import routes

spec_path, api_md_path, errors_md_path = sys.argv[1:4]
spec = yaml.safe_load(open(spec_path, encoding="utf-8"))
api_md = open(api_md_path, encoding="utf-8").read()
errors = []

def fail(where, msg):
    errors.append(f"{where}: {msg}")

def resolve(node):
    """Follows a local $ref (Example, Response, Parameter objects)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise SystemExit(f"openapi: only local $refs are supported, got {ref}")
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        if seen > 20:
            raise SystemExit(f"openapi: $ref cycle at {ref}")
    return node

# Schemas are validated against a copy of the document whose local $refs are absolute, so any
# subschema can be checked on its own.
BASE = "urn:tensord:openapi"
def absolutise(node):
    if isinstance(node, dict):
        return {k: (BASE + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else absolutise(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [absolutise(v) for v in node]
    return node
registry = Registry().with_resource(BASE, Resource(contents=absolutise(spec), specification=DRAFT202012))

def schema_errors(schema, value):
    v = Draft202012Validator(absolutise(schema), registry=registry,
                             format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}" for e in v.iter_errors(value)]

# --- error table and routes in docs/API.md -------------------------------------------------------
code_status = {}
for codes, status in re.findall(r"^\|\s*(`[a-z-]+`(?:\s*/\s*`[a-z-]+`)*)\s*\|\s*(\d{3})\s*\|", api_md, re.M):
    for code in re.findall(r"`([a-z-]+)`", codes):
        code_status[code] = int(status)
api_routes = set(re.findall(r"^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*`([^`]+)`", api_md, re.M))
if not code_status or not api_routes:
    fail(api_md_path, "could not read the error table or the route tables")

spec_routes = set(routes(spec))
for m, p in sorted(api_routes - spec_routes):
    fail("paths", f"{m} {p} is in {api_md_path} but not in the spec")
for m, p in sorted(spec_routes - api_routes):
    fail("paths", f"{m} {p} is in the spec but not in {api_md_path}")

enum = spec["components"]["schemas"]["ErrorCode"]["enum"]
if len(enum) != len(set(enum)):
    fail("ErrorCode", "duplicate codes")
if set(enum) != set(code_status):
    fail("ErrorCode", f"differs from {api_md_path}: only in spec {sorted(set(enum) - set(code_status))}, "
                      f"only in API.md {sorted(set(code_status) - set(enum))}")
try:
    errors_md = open(errors_md_path, encoding="utf-8").read()
except OSError:
    errors_md = ""
    fail(errors_md_path, "missing")
sections = {}
for block in re.split(r"^## ", errors_md, flags=re.M)[1:]:
    heading, _, body = block.partition("\n")
    sections[heading.strip().strip("`")] = body
problem_schema = {"$ref": "#/components/schemas/Problem"}
for code in enum:
    body = sections.get(code)
    status = re.search(r"^\*\*Status:\*\* (\d{3})$", body or "", re.M)
    if not status:
        fail(errors_md_path, f"no section '## {code}' with a '**Status:** NNN' line")
        continue
    if code in code_status and int(status.group(1)) != code_status[code]:
        fail(errors_md_path, f"{code} has status {status.group(1)}, API.md says {code_status[code]}")
    examples = re.findall(r"^```json\n(.*?)^```", body, re.M | re.S)
    if not examples:
        fail(errors_md_path, f"{code}: no example problem body")
    for text in examples:
        try:
            value = json.loads(text)
        except ValueError as e:
            fail(errors_md_path, f"{code}: example is not JSON: {e}")
            continue
        for e in schema_errors(problem_schema, value):
            fail(errors_md_path, f"{code}: example is not a Problem: {e}")
        if value.get("code") != code or value.get("type") != f"https://tensord.dev/problems/{code}" \
                or value.get("status") != int(status.group(1)):
            fail(errors_md_path, f"{code}: example has another code, type or status")
for heading in sections:
    if heading not in enum:
        fail(errors_md_path, f"section '## {heading}' is not an error code")

# --- operations ----------------------------------------------------------------------------------
VERBS = {"get", "list", "create", "delete", "put", "set", "push", "pop", "release", "attach",
         "detach", "mark", "invoke", "run", "compute", "call", "seed", "export", "import"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_TYPES = ("application/json", "application/problem+json")

def check_example_value(where, media, schema, value):
    if media in JSON_TYPES or media.endswith("+json"):
        for e in schema_errors(schema, value):
            fail(where, f"example does not match schema: {e}")
    elif media in ("application/x-npy", "application/octet-stream"):
        try:
            np.load(io.BytesIO(value.encode("latin-1")), allow_pickle=False)
        except Exception as e:
            fail(where, f"example is not a loadable .npy: {e}")
    elif media == "application/yaml":
        try:
            yaml.safe_load(value)
        except yaml.YAMLError as e:
            fail(where, f"example is not YAML: {e}")
    elif not (isinstance(value, str) and value.strip()):
        fail(where, "example of a text media type must be a non-empty string")

def media_examples(where, media, mt):
    if "example" in mt:
        yield where, mt["example"]
    for name, ex in (mt.get("examples") or {}).items():
        ex = resolve(ex)
        if "value" not in ex:
            fail(f"{where} example {name}", "has no value")
            continue
        yield f"{where} example {name}", ex["value"]

def check_content(where, content):
    for media, mt in (content or {}).items():
        w = f"{where} {media}"
        if "example" not in mt and not mt.get("examples"):
            fail(w, "no example")
        for ww, value in media_examples(w, media, mt):
            check_example_value(ww, media, mt.get("schema", {}), value)

def narrowed_codes(schema):
    """The codes an error response schema narrows `code` to (None if not narrowed)."""
    for part in schema.get("allOf", []):
        code = (part.get("properties") or {}).get("code") or {}
        if "const" in code:
            return [code["const"]]
        if "enum" in code:
            return code["enum"]
    return None

def is_problem_schema(schema):
    return schema.get("$ref") == "#/components/schemas/Problem" or any(
        p.get("$ref") == "#/components/schemas/Problem" for p in schema.get("allOf", []))

def check_error_response(where, status, resp):
    content = resp.get("content") or {}
    if list(content) != ["application/problem+json"]:
        fail(where, f"4xx/5xx must be application/problem+json only, has {list(content)}")
        return
    mt = content["application/problem+json"]
    schema = mt.get("schema", {})
    if not is_problem_schema(schema):
        fail(where, "schema is not the Problem schema (or allOf it)")
    codes = narrowed_codes(schema) or []
    for code in codes:
        if code_status.get(code) != status:
            fail(where, f"code {code} has status {code_status.get(code)} in API.md, not {status}")
    for ww, value in media_examples(where, "application/problem+json", mt):
        if not isinstance(value, dict):
            continue
        code = value.get("code")
        if value.get("type") != f"https://tensord.dev/problems/{code}":
            fail(ww, f"type {value.get('type')!r} does not match code {code!r}")
        if value.get("status") != status:
            fail(ww, f"status {value.get('status')} in a {status} response")

op_ids = {}
for path, item in spec["paths"].items():
    template = set(re.findall(r"\{([^}]+)\}", path))
    path_params = [resolve(p) for p in item.get("parameters", [])]
    for method in METHODS:
        op = item.get(method)
        if op is None:
            continue
        where = f"{method.upper()} {path}"
        oid = op.get("operationId")
        if not oid:
            fail(where, "no operationId")
        else:
            if oid in op_ids:
                fail(where, f"operationId {oid} also used by {op_ids[oid]}")
            op_ids[oid] = where
            verb = re.match(r"[a-z]+", oid)
            if not re.fullmatch(r"[a-z]+(?:[A-Z][A-Za-z0-9]*)*", oid) or not verb or verb.group() not in VERBS:
                fail(where, f"operationId {oid} is not verb-first camelCase")
        if not op.get("tags"):
            fail(where, "no tags")
        params = {}
        for p in path_params + [resolve(p) for p in op.get("parameters", [])]:
            params[(p["name"], p["in"])] = p     # operation level overrides path level
            if "example" in p:
                for e in schema_errors(p.get("schema", {}), p["example"]):
                    fail(f"{where} parameter {p['name']}", f"example does not match schema: {e}")
        declared = {name for (name, where_in), p in params.items() if where_in == "path"}
        for name in sorted(template - declared):
            fail(where, f"path parameter {{{name}}} is not declared")
        for name in sorted(declared - template):
            fail(where, f"path parameter {name} is declared but not in the path")
        for (name, where_in), p in params.items():
            if where_in == "path" and p.get("required") is not True:
                fail(where, f"path parameter {name} must be required")
        if "requestBody" in op:
            check_content(f"{where} request", resolve(op["requestBody"]).get("content"))
        responses = op.get("responses") or {}
        if not any(s.startswith("2") for s in responses):
            fail(where, "no 2xx response")
        for status, resp in responses.items():
            resp = resolve(resp)
            w = f"{where} {status}"
            if status[0] in "45":
                check_error_response(w, int(status), resp)
            check_content(w, resp.get("content"))

for name, resp in spec["components"].get("responses", {}).items():
    codes = narrowed_codes(((resp.get("content") or {}).get("application/problem+json") or {}).get("schema", {}))
    if codes:
        statuses = {code_status.get(c) for c in codes}
        if len(statuses) != 1:
            fail(f"components.responses.{name}", f"codes {codes} have different statuses {statuses}")
        else:
            check_error_response(f"components.responses.{name}", statuses.pop(), resp)
            check_content(f"components.responses.{name}", resp.get("content"))

text = open(spec_path, encoding="utf-8").read()
for kind in ("schemas", "parameters", "headers", "examples"):
    for name in spec["components"].get(kind, {}):
        if f"#/components/{kind}/{name}" not in text.replace("'", "").replace('"', ""):
            fail(f"components.{kind}.{name}", "is never referenced")

for name, schema in spec["components"]["schemas"].items():
    for i, value in enumerate(schema.get("examples", [])):
        for e in schema_errors(schema, value):
            fail(f"components.schemas.{name} examples[{i}]", e)

for e in errors:
    print("openapi lint:", e, file=sys.stderr)
if errors:
    sys.exit(f"openapi lint: {len(errors)} problem(s)")
print(f"openapi lint: {len(op_ids)} operations, {len(enum)} error codes: ok")
PY
