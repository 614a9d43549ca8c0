#!/bin/bash
# Benchmarks, load and fault scenarios of dovecot-referral (issue 6).
#
#   scripts/perf.sh bench|issue13|suggest|relay|load|faults|all [--quick] [--build-dir DIR] [--addr-base N]
#                   [--dovecot 2.3|2.4]
#
#   bench   login referrals (ours vs native LDAP vs static vs local, both login
#           modes, cache cold/warm), referral vs proxy (front CPU and bytes for
#           a 200 MB download), mailbox referrals (SELECT, RLIST, session start,
#           memory per remote entry), and suggest
#   issue13 the figures of issue 13 from one run: login referrals with the
#           LDAP password chains (ours-ldap/ldapb/ldapf/ldapfb) and password
#           mode (ours-ldapp: passdb referral alone) against native
#           and native-b, both login modes, cold/warm, searches and binds per
#           login from slapd; high-performance mode for ours, ours-ldapp and
#           ours-ldapf pinned, interleaved, with the A/A control native-aa and
#           the floor chain-static (ours' chain with Dovecot's passdb static
#           second: what no second passdb goes below) (issue13-login-sc0,
#           ~12 min); then session start (plugin absent,
#           the referral-directory service cached and asked, 0 and 1k entries)
#   suggest policy proxy-suggest vs proxy: front CPU per login, logins/s, p99
#           in both login modes, front CPU saved per 100 MB by a client that
#           follows the hint (tests/perf/bench_proxy_suggest.py)
#   relay   mailbox relay (issue 12): SELECT + FETCH of 1,000 headers through
#           the relay vs directly on the owner vs a local mailbox; CPU and
#           memory of the home server's imap process per relayed session
#           (tests/perf/bench_relay.py)
#   load    10,000 mixed logins at concurrency 50, both login modes
#   faults  slapd killed/frozen, first LDAP URI dead, home server down,
#           directory edits during sessions
#   --quick small sizes, one round: a smoke run of the tooling (minutes)
#   --dovecot 2.4  the same parts on Dovecot 2.4, inside the Debian 13 root of
#           scripts/debian13-root.sh (default build dir ./build-2.4); the
#           native baseline is then 2.4's own LDAP passdb referral
#
# Runs as root on a machine with Dovecot, slapd and ldap-utils (the lab's
# needs, docs/lab.md).  Starts its own lab in DIR/perf-lab on 127.0.0.N..N+3
# (N = --addr-base, default 60; bench fronts use N+4..N+18, wrong-password
# logins come from 127.0.0.76-79), stops it at the end, also on failure.
# Results: DIR/perf-results/<part>.{json,md}; method and figures:
# docs/benchmarks.md.  Nothing here runs in ctest (perf_tools_smoke only
# checks the load generator).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PART=${1:-}
[ -n "$PART" ] && shift
QUICK=""
BUILD_DIR="$REPO/build"
BASE=60
DOVECOT=2.3
# Seconds of rounds of issue13's timed sc0 part (about 12 minutes per
# Dovecot with the set-up; --quick: one round): 480 s gave 24 rounds of five
# variants on 2.3 (20 on 2.4), 580 s about as many of six.
SC0_BUDGET=580
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK="--quick" ;;
    --dovecot)
      case "${2:-}" in
        2.3|2.4) DOVECOT=$2 ;;
        *) echo "perf.sh: --dovecot takes 2.3 or 2.4" >&2; exit 2 ;;
      esac
      shift ;;
    --build-dir) BUILD_DIR=$2; shift ;;
    --addr-base) BASE=$2; shift ;;
    *) echo "perf.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$PART" in
  bench|issue13|suggest|relay|load|faults|all) ;;
  *) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "perf.sh: run as root (the lab's Dovecots chroot their login processes)" >&2
  exit 2
fi

if [ "$DOVECOT" = 2.4 ] && [ "${DREF_DOVECOT_ROOT:-}" != debian13 ]; then
  # Run the same parts inside the Debian 13 root (its servers listen on this
  # host's loopback).
  bash "$REPO/scripts/debian13-root.sh" ensure
  rc=0
  has_build=no
  for a in "${ARGS[@]}"; do [ "$a" = --build-dir ] && has_build=yes; done
  extra=()
  [ $has_build = no ] && extra=(--build-dir "$REPO/build-2.4")
  (cd "$REPO" && bash scripts/debian13-root.sh run bash scripts/perf.sh "$PART" "${ARGS[@]}" "${extra[@]}") || rc=$?
  # Detach this tree (our lab is stopped by the inner run's trap); `umount`
  # leaves /proc, /dev and /tmp mounted while another checkout still uses
  # the root, and stops nobody else's processes.
  bash "$REPO/scripts/debian13-root.sh" umount || true
  exit "$rc"
fi
BUILD_DIR=$(mkdir -p "$BUILD_DIR" && cd "$BUILD_DIR" && pwd)
LAB="$BUILD_DIR/perf-lab"
WORK="$BUILD_DIR/perf-work"
OUT="$BUILD_DIR/perf-results"
mkdir -p "$WORK" "$OUT"

echo "perf.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, Dovecot $(dovecot --version | cut -d' ' -f1)"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l > 3) }' && [ -z "$QUICK" ]; then
  echo "perf.sh: WARNING: load average $load1 > 3: figures will be noisy" >&2
fi

# The plugins are needed (a build dir configured without them would give a
# lab without plugins).
# On Dovecot 2.4 also the settings module: without it in <moduledir>/settings
# (the lab links it) no front accepts referral_config.
TARGETS=(dref-imap-load dref_auth_plugin dref_login_plugin dref_imap_plugin referral-directory)
case "$(dovecot --version)" in
  2.4*) TARGETS+=(dref_settings_module) ;;
esac
cmake -S "$REPO" -B "$BUILD_DIR" -DDREF_BUILD_PLUGINS=ON >/dev/null
cmake --build "$BUILD_DIR" -j2 --target "${TARGETS[@]}" >/dev/null

stop_lab() { python3 "$REPO/tests/lab/lab.py" stop --dir "$LAB" >/dev/null 2>&1 || true; }
trap stop_lab EXIT INT TERM
python3 "$REPO/tests/lab/lab.py" start --dir "$LAB" --addr-base "$BASE" --plugins build \
  --build-dir "$BUILD_DIR"
ENV="$LAB/lab.env"
P="$REPO/tests/perf"
COMMON="--env $ENV --work $WORK --addr-base $BASE $QUICK"

FAILED=""
run() {  # name script [args]: a failed part is reported, the others still run
  name=$1; script=$2; shift 2
  echo "== $name ($(date -u +%H:%M:%S), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if ! python3 "$P/$script" $COMMON --json "$OUT/$name.json" "$@" | tee "$OUT/$name.log"; then
    FAILED="$FAILED $name"
  fi
  # The tables of the output, for docs/benchmarks.md.
  grep -v '^\[' "$OUT/$name.log" > "$OUT/$name.md" || true
}

case "$PART" in
  bench|all)
    run bench-login bench_login.py --build-dir "$BUILD_DIR"
    run bench-proxy bench_proxy.py --build-dir "$BUILD_DIR"
    run bench-mailbox bench_mailbox.py
    ;;
esac
case "$PART" in
  issue13)
    run issue13-login bench_login.py --build-dir "$BUILD_DIR" --modes sc1 \
      --variants native,ours,ours-ldap,ours-ldapb,ours-ldapf,ours-ldapfb,ours-ldapp,native-b
    # sc0, the chains item 3 does not time (searches and binds per login)
    run issue13-login-sc0-chains bench_login.py --build-dir "$BUILD_DIR" --modes sc0 \
      --variants native,ours-ldap,ours-ldapb,ours-ldapfb,native-b
    # sc0, item 3's chains with the method of docs/benchmarks.md "Session 9":
    # fronts on one CPU, the rest on the other, nice -19, passes of 5,000
    # logins interleaved in chunks of 500, rounds in pairs while the budget
    # lasts (up to 24), the A/A control native-aa, the floor chain-static
    # (docs/benchmarks.md "Session 15"), confidence intervals of the paired
    # medians.
    run issue13-login-sc0 bench_login.py --build-dir "$BUILD_DIR" --modes sc0 \
      --pin --nice -19 --chunk 500 --sc0-logins 5000 --rounds 24 --budget "$SC0_BUDGET" \
      --variants native,native-aa,ours,ours-ldapp,ours-ldapf,chain-static
    run issue13-session-start bench_mailbox.py --parts start
    ;;
esac
case "$PART" in
  bench|suggest|all) run bench-proxy-suggest bench_proxy_suggest.py --build-dir "$BUILD_DIR" ;;
esac
case "$PART" in
  bench|relay|all) run bench-relay bench_relay.py ;;
esac
case "$PART" in
  load|all) run load load_mixed.py --build-dir "$BUILD_DIR" ;;
esac
case "$PART" in
  faults|all) run faults faults.py --build-dir "$BUILD_DIR" ;;
esac
echo "perf.sh: results in $OUT"
if [ -n "$FAILED" ]; then
  echo "perf.sh: FAILED:$FAILED" >&2
  exit 1
fi
