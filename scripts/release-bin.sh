#!/usr/bin/env bash
# Builds (once; later calls are no-ops) the release tensord with the Swift runtime linked
# statically, exactly as the Docker image ships it, and prints its path. Shared by the checks
# that need a fast binary (deploy, load, slow clients) so CI builds release only once.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product tensord --static-swift-stdlib --scratch-path .build-static >&2
echo "$(swift build -c release --static-swift-stdlib --scratch-path .build-static --show-bin-path)/tensord"
