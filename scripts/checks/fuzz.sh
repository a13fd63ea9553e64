#!/usr/bin/env bash
# Builds the libFuzzer binary once and fuzzes each harness (http, json, npy, program) for a
# bounded time, starting from Fuzz/Corpus/<harness> with Fuzz/Regressions/<harness> as an extra
# corpus (so every kept crasher is replayed first). Fails on any crash, broken property, leak,
# timeout or out-of-memory, and prints where libFuzzer saved the input.
# Usage: scripts/checks/fuzz.sh [seconds per harness] [harness ...]
# Default: 45 s per harness, less (down to 15 s) when the build took long, so that the whole
# check stays within about 4 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
seconds="${1:-}"
shift $(( $# > 0 ? 1 : 0 ))
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(http json npy program)

build=(-c release --product Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --build-path .build-fuzz)
swift build "${build[@]}" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Planning|Wrapping)|Cannot export local symbol' || true
swift build "${build[@]}" >/dev/null   # fail here (with output above) if the build is broken
binary="$(swift build "${build[@]}" --show-bin-path)/Fuzz"
# Crashes are reported by ASan/libFuzzer; Swift's own backtracer would race them.
export SWIFT_BACKTRACE=enable=no
if [ -z "$seconds" ]; then
    left=$(( 240 - ($(date +%s) - start) ))
    seconds=$(( left / ${#harnesses[@]} ))
    if (( seconds > 45 )); then seconds=45; fi
    if (( seconds < 15 )); then seconds=15; fi
fi

failed=()
for harness in "${harnesses[@]}"; do
    [ -d "Fuzz/Corpus/$harness" ] || { echo "fuzz: no Fuzz/Corpus/$harness"; exit 2; }
    # libFuzzer adds new inputs to its first corpus directory: a scratch copy, not the repository.
    work=".build-fuzz/corpus-$harness"
    artifacts=".build-fuzz/artifacts/$harness"
    log=".build-fuzz/fuzz-$harness.log"
    rm -rf "$work"
    mkdir -p "$work" "$artifacts" "Fuzz/Regressions/$harness"
    cp Fuzz/Corpus/"$harness"/* "$work"/
    max_len=4096
    if [ "$harness" = http ]; then max_len=8192; fi
    # The program harness allocates a whole session per input; a small ASan quarantine keeps
    # libFuzzer's per-input leak checks (a heap scan) affordable.
    asan="${ASAN_OPTIONS:-}"
    if [ "$harness" = program ]; then asan="quarantine_size_mb=1${asan:+:$asan}"; fi
    status=0
    ASAN_OPTIONS="$asan" "$binary" "$harness" "$work" "Fuzz/Regressions/$harness" -max_total_time="$seconds" -max_len="$max_len" \
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
    rate=$(grep -a 'stat::average_exec_per_sec' "$log" | awk '{print $2}' || true)
    if [ "$status" -eq 0 ]; then
        echo "fuzz $harness: ok, ${runs:-?} inputs in ${seconds}s (${rate:-?} exec/s), corpus $(ls "$work" | wc -l) files"
    else
        failed+=("$harness")
        echo "fuzz $harness: FAILED (libFuzzer exit $status); log $log"
        grep -aE 'Fatal error|ERROR: |SUMMARY|Test unit written|^artifact_prefix' "$log" | head -20 || true
        echo "  reproduce: $binary $harness <artifact>   (or: swift run Fuzz $harness <artifact>, without sanitizers)"
        echo "  once fixed, copy the artifact to Fuzz/Regressions/$harness/<what-it-was> (see Fuzz/README.md)"
    fi
done
echo "fuzz: $(( $(date +%s) - start ))s in all"
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
