#!/usr/bin/env bash
# Builds the libFuzzer target and fuzzes the HTTP request parser for a bounded time.
# Fails (non-zero) if libFuzzer finds a crash, leak or broken property; the input is saved
# under .build-fuzz/artifacts/ and should be copied to Fuzz/Regressions/http/ once fixed.
# Usage: scripts/checks/fuzz-http.sh [seconds=60]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"

swift build -c release --product Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --build-path .build-fuzz
binary="$(swift build -c release --product Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --build-path .build-fuzz --show-bin-path)/Fuzz"

# libFuzzer adds new inputs to its first corpus directory: use a scratch copy, not the repository.
work=".build-fuzz/corpus-http"
artifacts=".build-fuzz/artifacts/"
mkdir -p "$work" "$artifacts"
cp Fuzz/Corpus/http/* "$work"/
if compgen -G "Fuzz/Regressions/http/*" > /dev/null; then cp Fuzz/Regressions/http/* "$work"/; fi

"$binary" http "$work" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts" -print_final_stats=1
echo "fuzz-http: no crash in ${seconds}s"
