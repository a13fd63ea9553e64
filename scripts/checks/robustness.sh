#!/usr/bin/env bash
# Robustness under load (issue 8), against the release binary, bounded in time:
#  - 1,000 concurrent keep-alive connections of mixed session traffic for 60 s: zero errors,
#    p99 reported, resident memory back to baseline after the sessions are deleted;
#  - 500 connections trickling headers: a normal client's p99 stays under 50 ms and the header
#    timeout closes every one of them.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(bash scripts/release-bin.sh)
cd Tests/robustness
timeout 180 python3 load_test.py --bin "$bin" --seconds "${TENSORD_LOAD_SECONDS:-60}" --connections 1000 --sessions 100
timeout 120 python3 slow_clients_test.py --bin "$bin" --slow 500 --header-timeout 3 --p99-ms 50
