#!/usr/bin/env bash
# Python client check: builds tensord, installs clients/python with pip, runs its pytest suite
# (which starts tensord on an ephemeral loopback port) including the examples.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/deps.sh
ensure_build_deps
pip_ensure numpy:numpy pytest:pytest

swift build --product tensord >&2
TENSORD_BIN="$(swift build --show-bin-path)/tensord"
export TENSORD_BIN

PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check ./clients/python >/dev/null
# Run from the tests directory against the installed package, not the source tree.
cd clients/python
timeout 900 python3 -m pytest -q -p no:cacheprovider tests "$@"
