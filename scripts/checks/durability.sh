#!/usr/bin/env bash
# Durable sessions (issue 8), against the release binary, bounded in time: kill -9 in the middle
# of traffic and restart with the same --data-dir (every array of the last completed snapshot
# back bit for bit), a graceful SIGTERM restart (nothing lost), and a corrupted snapshot (set
# aside and logged, start-up goes on). See Tests/robustness/durability_test.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/deps.sh
pip_ensure numpy:numpy
bin=$(bash scripts/release-bin.sh)
cd Tests/robustness
timeout 120 python3 durability_test.py --bin "$bin"
