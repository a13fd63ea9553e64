#!/usr/bin/env bash
# Browser test of the dashboard in headless Chromium (issue 10).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/deps.sh
apt_ensure chromium fonts-dejavu-core
swift build --product tensord >/dev/null
timeout 240 python3 Tests/browser/dashboard_test.py --bin "$(swift build --show-bin-path)/tensord" --screenshot "${TMPDIR:-/tmp}/tensord-dashboard.png"
