#!/usr/bin/env bash
# The project's test command (README, .ci/run): install the dependencies,
# then, for each supported Dovecot, configure, build and run every ctest
# label (unit, directory, lab, integration, packaging, perf), then the
# hardening step once (sanitizer and fuzz builds, see below).
#
#   bash scripts/test.sh                   Dovecot 2.3 (this Debian 12 host, ./build)
#                                          and 2.4 (a Debian 13 root, ./build-2.4)
#   bash scripts/test.sh --dovecot 2.3     only 2.3 (+ hardening)
#   bash scripts/test.sh --dovecot 2.4     only 2.4 (+ hardening)
#
# Dovecot 2.4 runs in the Debian 13 root of scripts/debian13-root.sh (built
# on first use, cached, rebuilt when its package list changes; unmounted at
# the end).  Each Dovecot prints its own ctest summary line; the last lines
# repeat them.  Exit status: 0 only if every ctest run and the hardening
# step passed.  DREF_TEST_HARDENING=0 skips the hardening step.
# The 2.4 and hardening builds run in the background from the start (below).
# Run as root on Debian 12 from a clone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dovecots=(2.3 2.4)
while [[ $# -gt 0 ]]; do
  case $1 in
    --dovecot)
      case ${2:-} in
        2.3|2.4) dovecots=("$2") ;;
        all) dovecots=(2.3 2.4) ;;
        *) echo "test.sh: --dovecot takes 2.3, 2.4 or all" >&2; exit 2 ;;
      esac
      shift 2 ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
bash scripts/install-deps.sh

declare -A summary=() status=() seconds=()
overall=0
hardening=1
[[ ${DREF_TEST_HARDENING:-1} != 0 ]] || hardening=0

# ---- Builds in the background ----
# The builds that start no server (Dovecot 2.4's, then the hardening step's
# ASan+UBSan and fuzz builds) run in one background chain at SCHED_IDLE
# (chrt --idle): they get only the CPU time nothing else wants, which is most
# of it while the integration tests wait on their servers, and a test process
# that wakes preempts them at once.  Started before the 2.3 build, they are
# done or nearly so when their step comes (2.4: after the 2.3 ctest;
# hardening: after the 2.4 ctest).  Each build writes its output to a log and
# its exit status to a file; the step that needs it waits for that file and
# prints the log.  The Debian 13 root is made (ensure) first, in the
# foreground, as the 2.4 build needs it.
bg_pid=
bg_dir=$PWD/build/test-sh-background
stop_background() {
  # The chain runs in its own process group (set -m below): end all of it.
  if [[ -n $bg_pid ]] && kill -0 "$bg_pid" 2>/dev/null; then
    kill -- -"$bg_pid" 2>/dev/null || true
    wait "$bg_pid" 2>/dev/null || true
  fi
}
# Waits until the background build $1 has written its status, prints its
# log, and returns its exit status.
background_result() {
  local name=$1
  until [[ -s $bg_dir/$name.status ]]; do
    if [[ -n $bg_pid ]] && ! kill -0 "$bg_pid" 2>/dev/null && [[ ! -s $bg_dir/$name.status ]]; then
      echo "== test.sh: the background build $name ended without a status"
      return 1
    fi
    sleep 2
  done
  cat "$bg_dir/$name.log"
  return "$(cat "$bg_dir/$name.status")"
}

# The background chain (runs in its own process group at SCHED_IDLE): the
# c-client probe and the 2.4 build when $1 is 1, then the hardening builds
# when $2 is 1.
background_builds() {
  set +e
  if [[ $1 -eq 1 ]]; then
    {
      # The UW c-client probe of the client tests, built on the host (the
      # root has no c-client) and bundled with the host's libraries; a
      # failure here makes that test fail in the 2.4 run.
      mkdir -p build-2.4
      bash scripts/cclient-probe.sh build-2.4/cclient-probe ||
        echo "== test.sh: no c-client probe for 2.4 (scripts/cclient-probe.sh failed)"
      bash scripts/debian13-root.sh run cmake -S . -B build-2.4 -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
        bash scripts/debian13-root.sh run cmake --build build-2.4 -j"$(nproc)"
    } >"$bg_dir/build-2.4.log" 2>&1
    echo $? >"$bg_dir/build-2.4.status"
  fi
  if [[ $2 -eq 1 ]]; then
    # The hardening step's builds (see there).
    { cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDREF_SANITIZE=ON \
        -DDREF_BUILD_PLUGINS=OFF >/dev/null &&
        cmake --build build-asan -j"$(nproc)"; } >"$bg_dir/build-asan.log" 2>&1
    echo $? >"$bg_dir/build-asan.status"
    DREF_FUZZ_BUILD_DIR=$PWD/build-fuzz bash scripts/fuzz.sh --build-only \
      >"$bg_dir/build-fuzz.log" 2>&1
    echo $? >"$bg_dir/build-fuzz.status"
  fi
}

# ctest of one Dovecot: $1 = version, $2 = build dir, $3 = where it is
# built ("here": configure and build now; "background": wait for the
# background build), rest = how to run a command for that Dovecot (empty for
# the host).
run_suite() {
  local version=$1 build=$2 where=$3; shift 3
  local runner=("$@") t0 rc log
  t0=$(date +%s)
  log=$build/ctest-output.log
  echo
  set +e
  if [[ $where == background ]]; then
    echo "== test.sh: Dovecot $version: configure and build in $build (in the background; waiting for it)"
    background_result "build-$version"
    rc=$?
  else
    echo "== test.sh: Dovecot $version: configure and build in $build"
    "${runner[@]}" cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
      "${runner[@]}" cmake --build "$build" -j"$(nproc)"
    rc=$?
  fi
  if [[ $rc -eq 0 ]]; then
    mkdir -p "$build"
    echo "== test.sh: Dovecot $version: ctest"
    "${runner[@]}" ctest --test-dir "$build" --output-on-failure 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
  else
    mkdir -p "$build"
    echo "build failed" >"$build/ctest-output.log" 2>/dev/null || true
  fi
  set -e
  status[$version]=$rc
  seconds[$version]=$(( $(date +%s) - t0 ))
  summary[$version]=$(grep -E '^[0-9]+% tests passed' "$log" 2>/dev/null | tail -1 || true)
  [[ -n ${summary[$version]} ]] || summary[$version]="no ctest summary (build or configure failed)"
  [[ $rc -eq 0 ]] || overall=1
}

root_used=0
cleanup() {
  stop_background
  if [[ $root_used -eq 1 ]]; then bash scripts/debian13-root.sh umount || true; fi
}
trap cleanup EXIT

# The root first (the 2.4 build needs it), then the background chain.
build_24=0
for v in "${dovecots[@]}"; do
  if [[ $v == 2.4 ]]; then
    root_used=1
    if bash scripts/debian13-root.sh ensure; then
      build_24=1
    else
      status[2.4]=1 seconds[2.4]=0 summary[2.4]="no ctest summary (the Debian 13 root could not be built)"
      overall=1
    fi
  fi
done
rm -rf "$bg_dir"
mkdir -p "$bg_dir"
if [[ $build_24 -eq 1 || $hardening -eq 1 ]]; then
  set -m   # its own process group, so that stop_background ends all of it
  ( chrt --idle -p 0 "$BASHPID" >/dev/null; background_builds "$build_24" "$hardening" ) &
  bg_pid=$!
  set +m
fi

for v in "${dovecots[@]}"; do
  case $v in
    2.3) run_suite 2.3 build here ;;
    2.4)
      if [[ $build_24 -eq 1 ]]; then
        run_suite 2.4 build-2.4 background bash scripts/debian13-root.sh run
      fi
      ;;
  esac
done

# ---- Hardening step (docs/hardening.md; owned by the hardening scripts) ----
# Version-free code only, so it runs once, on the host:
# 1. unit + directory tests built with ASan+UBSan (plugins off: they cannot be
#    instrumented inside an uninstrumented Dovecot), in ./build-asan;
# 2. the short libFuzzer run (ctest -L fuzz) in a clang build, ./build-fuzz.
# Debug (-O0) for the ASan build: half the compile time of -O2, same checks.
# Both are built in the background chain (see above); the step waits for them.
# It leaves out slapd_server_helper: a Python test of the slapd helper,
# nothing of ours instrumented in it, that both ctest runs above have run.
hard_msg="skipped (DREF_TEST_HARDENING=0)"
if [[ $hardening -eq 1 ]]; then
  hard_start=$(date +%s)
  mkdir -p build
  hard_log=build/hardening-output.log
  set +e
  {
    echo "== test.sh: hardening: ASan+UBSan build in build-asan (in the background; waiting for it)"
    background_result build-asan &&
      ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:strict_string_checks=1 \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      ctest --test-dir build-asan -L 'unit|directory' -E '^slapd_server_helper$' \
        -j"$(nproc)" --output-on-failure
  } 2>&1 | tee "$hard_log"
  asan_rc=${PIPESTATUS[0]}
  {
    echo "== test.sh: hardening: fuzz build in build-fuzz (in the background; waiting for it)"
    background_result build-fuzz &&
      DREF_FUZZ_BUILD_DIR=$PWD/build-fuzz bash scripts/fuzz.sh --ctest
  } 2>&1 | tee -a "$hard_log"
  fuzz_rc=${PIPESTATUS[0]}
  set -e
  [[ $asan_rc -eq 0 && $fuzz_rc -eq 0 ]] || overall=1
  hard_msg="ASan+UBSan unit|directory exit $asan_rc, fuzz exit $fuzz_rc ($(( $(date +%s) - hard_start ))s after the 2.4 run, builds included)"
fi
# ---- end of the hardening step ----

echo
for v in "${dovecots[@]}"; do
  echo "== test.sh: Dovecot $v: ${summary[$v]} (ctest exit ${status[$v]}, ${seconds[$v]}s)"
done
echo "== test.sh: hardening: $hard_msg"
echo "== test.sh: exit $overall, $(( $(date +%s) - start ))s in all"
exit "$overall"
