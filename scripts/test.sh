#!/usr/bin/env bash
# The one command that runs all of tensord's tests:   bash scripts/test.sh
# Installs missing system and Python packages, builds, runs the Swift test suites, then every
# check in scripts/checks/ (client tests, spec validation, deployment checks, bounded fuzz/load).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_test_deps

echo "== swift build (debug, with tests)"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Planning|Wrapping)' || true
swift build --build-tests >/dev/null   # fail here (with output above) if the build is broken

echo "== swift test"
swift test --skip-build

passed=0; failed=0; failures=()
for check in scripts/checks/*.sh; do
  [ -e "$check" ] || continue
  name=$(basename "$check" .sh)
  echo "== check $name"
  start=$(date +%s)
  if bash "$check"; then passed=$((passed+1)); echo "-- $name ok ($(( $(date +%s)-start ))s)"
  else failed=$((failed+1)); failures+=("$name"); echo "-- $name FAILED ($(( $(date +%s)-start ))s)"; fi
done
[ ${#failures[@]} -gt 0 ] && echo "failed checks: ${failures[*]}"
echo "checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
