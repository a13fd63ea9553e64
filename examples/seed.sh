#!/usr/bin/env bash
# The seed example with curl: d(x*x + 1)/dx at x = [1, 2, 3, 4] in one batched `run` request.
# Usage: TENSORD_URL=http://127.0.0.1:8080 bash examples/seed.sh
# Prints the gradient as Tensor JSON: {"shape":[4],"dtype":"float32","data":[2,4,6,8]}
set -euo pipefail
URL=${TENSORD_URL:-http://127.0.0.1:8080}
JSON=(-H 'Content-Type: application/json')

# 1. Create a session; its path comes back in the Location header.
SESSION=$(curl -sS -f -o /dev/null -D - -X POST "${JSON[@]}" -d '{}' "$URL/v1/sessions" \
  | tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')
trap 'curl -sS -f -X DELETE "$URL$SESSION" >/dev/null' EXIT

# 2. One program: create x, attach a gradient, record y = x*x + 1, backward.
curl -sS -f -o /dev/null -X POST "${JSON[@]}" "$URL$SESSION/run" -d '{
  "steps": [
    {"create": {"data": [1, 2, 3, 4]}, "id": "x"},
    {"attach_grad": "x", "grad_req": "write"},
    {"scope": "record", "steps": [
      {"op": "broadcast_mul", "inputs": ["x", "x"], "id": "xx"},
      {"op": "_plus_scalar", "inputs": ["xx"], "params": {"scalar": 1}, "id": "y"}]},
    {"backward": ["y"]}
  ]}'

# 3. Read the gradient.
curl -sS -f "$URL$SESSION/arrays/x/grad"
echo
