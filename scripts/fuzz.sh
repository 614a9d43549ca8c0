#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in a dedicated build
# dir and runs them.  A normal (g++) build of the project never needs this.
#
#   scripts/fuzz.sh [--seconds N] [--runs N] [--jobs N] [--max-len N] [--build-dir DIR] [target...]
#       run each target (all by default) for N seconds and/or N executions
#       over its seed corpus; prints a table (execs, time, exec/s, corpus,
#       crashes).  Defaults: --seconds 15, --runs -1 (no limit).
#   scripts/fuzz.sh --ctest [--build-dir DIR]
#       the short run that scripts/test.sh uses: ctest -L fuzz in the clang
#       build (DREF_FUZZ_CTEST_RUNS / _SECONDS per target, 2 in parallel).
#   scripts/fuzz.sh --build-only
#
# New interesting inputs go to <build-dir>/fuzz-work/<target>/corpus, crash
# reproducers to .../artifacts; the committed corpus (tests/fuzz/corpus) is
# only read.  A reproducer worth keeping is copied there as regress-<what>.
# Needs clang and libclang-rt-14-dev (scripts/install-deps.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DREF_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=15 runs=-1 jobs=1 mode=run maxlen=
targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --max-len) maxlen=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --ctest) mode=ctest; shift ;;
    --build-only) mode=build; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=(imap_url_build imap_url_parse mutf7 entry_mapping settings list_pattern mailbox_cache_file)
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target $t (${all[*]})" >&2; exit 2; }
done

for tool in clang clang++; do
  command -v $tool >/dev/null || { echo "fuzz.sh: $tool not found (apt-get install clang)" >&2; exit 1; }
done
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDREF_BUILD_PLUGINS=OFF >"$build/fuzz-configure.log" 2>&1 ||
  { cat "$build/fuzz-configure.log" >&2; exit 1; }
grep -q 'DREF_HAVE_LIBFUZZER:INTERNAL=1' "$build/CMakeCache.txt" ||
  { echo "fuzz.sh: clang cannot link libFuzzer (apt-get install libclang-rt-14-dev)" >&2; exit 1; }
cmake --build "$build" --target dref_fuzzers -j"$(nproc)"
[[ $mode == build ]] && exit 0

if [[ $mode == ctest ]]; then
  exec ctest --test-dir "$build" -L fuzz -j2 --output-on-failure
fi

fuzzdir=$root/tests/fuzz
run_one() {
  local t=$1 work=$build/fuzz-work/$1 dict=$fuzzdir/dict/$1.dict
  [[ -f $dict ]] || dict=-
  rm -rf "$work/artifacts"
  set +e
  "$fuzzdir/run_fuzzer.sh" "$build/tests/fuzz/fuzz_$t" "$fuzzdir/corpus/$t" "$dict" "$work" \
    "$runs" "$seconds" ${maxlen:+-max_len=$maxlen} >"$work.log" 2>&1
  echo $? >"$work.rc"
  set -e
}
mkdir -p "$build/fuzz-work"
start=$(date +%s)
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [[ $running -ge $jobs ]]; then wait -n || true; running=$((running - 1)); fi
done
wait

stat() { sed -n "s/^stat::$2: *//p" "$build/fuzz-work/$1.log" | tail -1; }
rc_all=0
printf '%-16s %12s %8s %10s %8s %8s %8s %s\n' target execs seconds exec/s seeds corpus crashes result
for t in "${targets[@]}"; do
  rc=$(cat "$build/fuzz-work/$t.rc")
  execs=$(stat "$t" number_of_executed_units)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$build/fuzz-work/$t.log" | tail -1)
  seeds=$(find "$fuzzdir/corpus/$t" -type f | wc -l)
  corpus=$(( seeds + $(find "$build/fuzz-work/$t/corpus" -type f | wc -l) ))
  crashes=$(find "$build/fuzz-work/$t/artifacts" -type f 2>/dev/null | wc -l)
  result=ok
  if [[ $rc -ne 0 || $crashes -ne 0 ]]; then
    result="FAILED (exit $rc, see $build/fuzz-work/$t.log)"; rc_all=1
  fi
  rate=-
  [[ -n $execs && -n $secs && $secs -gt 0 ]] && rate=$(( execs / secs ))
  printf '%-16s %12s %8s %10s %8s %8s %8s %s\n' "$t" "${execs:-?}" "${secs:-?}" "$rate" "$seeds" \
    "$corpus" "$crashes" "$result"
done
echo "fuzz.sh: ${#targets[@]} target(s), $(( $(date +%s) - start ))s wall, jobs=$jobs"
exit $rc_all
