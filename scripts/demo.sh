#!/usr/bin/env bash
# dovecot-referral demo: install the dependencies, build, start the loopback
# lab (slapd + front Dovecot with the plugins + two home Dovecots on
# 127.0.0.2-5) and walk through a real IMAP session: directory lookups, a
# login referral, a proxied login, a local login with a mailbox referral, a
# wrong password, then a POP3 login and an LMTP delivery through the front
# (both proxied to the user's home server).  The lab is stopped on exit,
# whatever happens.
# Run as root on Debian 12 from a clone:
#   bash scripts/demo.sh                  on Dovecot 2.3 (this host), build in ./build
#   bash scripts/demo.sh --dovecot 2.4    on Dovecot 2.4 (the Debian 13 root of
#                                         scripts/debian13-root.sh), build in ./build-2.4
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DOVECOT=2.3
case "${1:-}" in
  "") ;;
  --dovecot)
    case "${2:-}" in
      2.3|2.4) DOVECOT=$2 ;;
      *) echo "demo.sh: --dovecot takes 2.3 or 2.4" >&2; exit 2 ;;
    esac ;;
  *) echo "demo.sh: usage: demo.sh [--dovecot 2.3|2.4]" >&2; exit 2 ;;
esac

if [[ $DOVECOT == 2.4 && ${DREF_DOVECOT_ROOT:-} != debian13 ]]; then
  # The same demo, run inside the Debian 13 root (its servers listen on this
  # host's loopback); the root is unmounted afterwards, its cache kept.
  bash scripts/install-deps.sh
  bash scripts/debian13-root.sh ensure
  rc=0
  bash scripts/debian13-root.sh run bash scripts/demo.sh --dovecot 2.4 || rc=$?
  bash scripts/debian13-root.sh umount || true
  exit "$rc"
fi
if [[ $DOVECOT == 2.4 ]]; then
  BUILD=$ROOT/build-2.4
else
  BUILD=$ROOT/build
fi
LABDIR=$BUILD/lab-demo

say() { printf '\n### %s\n' "$*"; }

if [[ $DOVECOT == 2.3 ]]; then
  say "Installing the Debian packages the project needs (fast when already there)"
  bash scripts/install-deps.sh
else
  say "Dovecot $(dovecot --version) in the Debian 13 root (packages from scripts/debian13-root.sh)"
fi

say "Building in $BUILD"
mkdir -p "$BUILD"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/demo-configure.log" 2>&1 \
  || { cat "$BUILD/demo-configure.log"; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" >"$BUILD/demo-build.log" 2>&1 \
  || { tail -40 "$BUILD/demo-build.log"; exit 1; }
echo "built (log: $BUILD/demo-build.log)"

plugins=build
if [[ ! -e $BUILD/plugin/auth/libauthdb_referral.so || ! -e tests/lab/conf/front-referral.conf.in ]]; then
  plugins=none
  echo "(the plugins are not built yet: the lab runs without them)"
fi

cleanup() { python3 tests/lab/lab.py stop --dir "$LABDIR" || true; }
trap cleanup EXIT

say "Starting the lab (--plugins $plugins)"
python3 tests/lab/lab.py start --dir "$LABDIR" --plugins "$plugins" --build-dir "$BUILD"
# shellcheck disable=SC1091
. "$LABDIR/lab.env"

LOOKUP=$BUILD/ldap/tools/dovecot-referral-lookup
if [[ -x $LOOKUP ]]; then
  say "What the directory says (dovecot-referral-lookup -c $REFERRAL_SETTINGS)"
  # The lab directory also holds hostile remote mailbox entries for the tests;
  # their "mailbox warning" lines are left out here.
  show_lookup() {
    echo "\$ dovecot-referral-lookup -c \$REFERRAL_SETTINGS $*"
    "$LOOKUP" -c "$REFERRAL_SETTINGS" "$@" 2>&1 \
      | grep -E '^(home server|home server problem|policy|decision|decision why|referral url|mailbox|mailbox referral url):' \
      | sed 's/^/    /' || true
  }
  show_lookup "$REFER_USER"
  show_lookup "$PROXY_USER"
  show_lookup "$LOCAL_USER"
  show_lookup "$BADHOST_USER"
  echo "\$ dovecot-referral-lookup -c \$REFERRAL_SETTINGS $LOCAL_USER '$SHARED_MAILBOX_UTF8'"
  "$LOOKUP" -c "$REFERRAL_SETTINGS" "$LOCAL_USER" "$SHARED_MAILBOX_UTF8" 2>&1 \
    | grep -E '^mailbox( placement| referral url)?:' | sed 's/^/    /' || true
fi

say "IMAP, POP3 and LMTP sessions against the lab"
rc=0
python3 tests/lab/demo_session.py "$LABDIR/lab.env" || rc=$?

say "Stopping the lab"
trap - EXIT
python3 tests/lab/lab.py stop --dir "$LABDIR"
exit "$rc"
