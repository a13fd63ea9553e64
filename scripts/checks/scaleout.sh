#!/usr/bin/env bash
# Three tensord replicas + nginx on loopback using deploy/'s configuration (issue 9 item 4).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product tensord >/dev/null
timeout 300 python3 deploy/scaleout_test.py --bin "$(swift build --show-bin-path)/tensord"
