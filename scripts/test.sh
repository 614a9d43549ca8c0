#!/usr/bin/env bash
# The project's test command (README, .ci/run): install the dependencies,
# configure and build in ./build, run every test.  Exit status = ctest's.
# Run as root on Debian 12 from a clone: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

start=$(date +%s)
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"

log=build/ctest-output.log
set +e
ctest --test-dir build --output-on-failure 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo
echo "== test.sh: $(grep -E '^[0-9]+% tests passed' "$log" | tail -1) (ctest exit $rc, $(( $(date +%s) - start ))s in all)"
exit "$rc"
