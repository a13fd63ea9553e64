#!/usr/bin/env bash
# The one command that starts tensord (release build) on 127.0.0.1:8080:   bash scripts/serve.sh [flags]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_build_deps
swift build -c release --product tensord >&2
exec .build/release/tensord "$@"
