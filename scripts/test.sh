#!/usr/bin/env bash
# The project's test command (README, .ci/run): install the dependencies,
# configure and build in ./build, run every test, then the hardening step
# (sanitizer and fuzz builds, see below).  Exit status = ctest's, else the
# hardening step's.
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

# ---- Hardening step (docs/hardening.md; owned by the hardening scripts) ----
# 1. unit + directory tests built with ASan+UBSan (plugins off: they cannot be
#    instrumented inside an uninstrumented Dovecot), in ./build-asan;
# 2. the short libFuzzer run (ctest -L fuzz) in a clang build, ./build-fuzz.
# Debug (-O0) for the ASan build: half the compile time of -O2, same checks.
# DREF_TEST_HARDENING=0 skips it.
hard_rc=0
if [[ ${DREF_TEST_HARDENING:-1} != 0 ]]; then
  hard_start=$(date +%s)
  hard_log=build/hardening-output.log
  set +e
  {
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDREF_SANITIZE=ON \
      -DDREF_BUILD_PLUGINS=OFF >/dev/null &&
      cmake --build build-asan -j"$(nproc)" &&
      ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:strict_string_checks=1 \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      ctest --test-dir build-asan -L 'unit|directory' -j"$(nproc)" --output-on-failure
  } 2>&1 | tee "$hard_log"
  asan_rc=${PIPESTATUS[0]}
  DREF_FUZZ_BUILD_DIR=$PWD/build-fuzz bash scripts/fuzz.sh --ctest 2>&1 | tee -a "$hard_log"
  fuzz_rc=${PIPESTATUS[0]}
  set -e
  [[ $asan_rc -eq 0 && $fuzz_rc -eq 0 ]] || hard_rc=1
  echo "== test.sh hardening: ASan+UBSan unit|directory exit $asan_rc, fuzz exit $fuzz_rc" \
    "($(( $(date +%s) - hard_start ))s)"
fi
# ---- end of the hardening step ----

echo
echo "== test.sh: $(grep -E '^[0-9]+% tests passed' "$log" | tail -1) (ctest exit $rc, $(( $(date +%s) - start ))s in all)"
[[ $rc -eq 0 ]] && rc=$hard_rc
exit "$rc"
