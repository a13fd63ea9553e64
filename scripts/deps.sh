#!/usr/bin/env bash
# Installs what building, serving and testing tensord need, only when missing.
# Usage: source scripts/deps.sh; ensure_build_deps; ensure_test_deps
set -euo pipefail

apt_missing() { local p; for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done; }

apt_ensure() {
  local missing; missing=$(apt_missing "$@")
  [ -z "$missing" ] && return 0
  echo "deps: installing $missing" >&2
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

pip_ensure() {
  local missing=() spec mod
  for spec in "$@"; do
    mod=${spec%%=*}; mod=${mod%%:*}; local pkg=${spec#*:}
    python3 -c "import ${mod}" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "deps: pip installing ${missing[*]}" >&2
  python3 -m pip install -q "${missing[@]}" >/dev/null
}

# OpenBLAS is loaded at run time (dlopen), so only its runtime package is needed.
ensure_build_deps() { apt_ensure pkg-config libopenblas0-pthread zlib1g-dev libssl-dev; }

ensure_test_deps() {
  ensure_build_deps
  apt_ensure nginx-light wrk curl openssl graphviz
  pip_ensure numpy:numpy pytest:pytest openapi_spec_validator:openapi-spec-validator yaml:PyYAML "schemathesis:schemathesis>=4.32,<5"
}
