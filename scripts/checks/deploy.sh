#!/usr/bin/env bash
# Deployment checks (no Docker engine here): the Dockerfile is as documented, the runtime stage
# provides every shared library the statically-linked release binary needs, the generated nginx
# configurations are current and valid, and the Kubernetes manifests parse.
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "deploy: building release tensord with the Swift runtime linked statically (as the image does)"
bin=$(bash scripts/release-bin.sh)
# OpenBLAS is dlopen'ed at start-up, so ldd does not list it: check what the running server maps too.
source scripts/start-tensord.sh
start_tensord "$bin"
grep -q '"msg":"blas".*self-check passed' "$work/log" || { echo "deploy: OpenBLAS not in use:"; grep '"blas"' "$work/log"; exit 1; }
cp "/proc/$pid/maps" "$work/maps"
grep -q libopenblas "$work/maps" || { echo "deploy: the server did not map libopenblas"; exit 1; }
python3 deploy/check_image.py --dockerfile Dockerfile --binary "$bin" --maps "$work/maps"

echo "deploy: generated nginx configs are current"
python3 deploy/nginx/render.py --listen 8080 --replica 0=tensord-0:8080 --replica 1=tensord-1:8080 \
  --replica 2=tensord-2:8080 | diff -u deploy/nginx/compose.conf -
tmp=$(mktemp -d); trap 'rm -rf "$tmp"; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
python3 deploy/nginx/render.py --listen 127.0.0.1:18080 --replica 0=127.0.0.1:18101 \
  --replica 1=127.0.0.1:18102 --full --prefix "$tmp" > "$tmp/nginx.conf"
nginx -t -q -c "$tmp/nginx.conf" -p "$tmp"
python3 - <<'PY'
import yaml
docs = list(yaml.safe_load_all(open("deploy/k8s/tensord.yaml")))
kinds = sorted(d["kind"] for d in docs)
need = ["ConfigMap", "Deployment", "Namespace", "PodDisruptionBudget", "Service", "Service", "Service", "StatefulSet"]
assert kinds == need, kinds
sts = next(d for d in docs if d["kind"] == "StatefulSet")
c = sts["spec"]["template"]["spec"]["containers"][0]
assert c["readinessProbe"]["httpGet"]["path"] == "/readyz" and c["livenessProbe"]["httpGet"]["path"] == "/livez"
assert "requests" in c["resources"] and "limits" in c["resources"]
env = {e["name"]: e["value"] for e in c["env"]}
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
claims = [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]]
assert mounts.get("data") == env["TENSORD_DATA_DIR"] and "data" in claims, (env, mounts, claims)
headless = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "tensord")
assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True
yaml.safe_load(open("deploy/docker-compose.yml"))
print("deploy: k8s manifests and compose file parse; probes, resources, per-pod data volume and headless service present")
PY
