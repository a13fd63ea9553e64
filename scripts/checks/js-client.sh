#!/usr/bin/env bash
# JavaScript client tests (node --test) against a real tensord, plus the JS seed example.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product tensord >/dev/null
export TENSORD_BIN="$(swift build --show-bin-path)/tensord"
(cd clients/js && node --test test/)
