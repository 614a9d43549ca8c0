#!/usr/bin/env bash
# dovecot-referral demo: install the dependencies, build, start the loopback
# lab (slapd + front Dovecot with the plugins + two home Dovecots on
# 127.0.0.2-5) and walk through a real IMAP session: directory lookups, a
# login referral, a proxied login, a local login with a mailbox referral and
# a wrong password.  The lab is stopped on exit, whatever happens.
# Run as root on Debian 12 from a clone: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD=$ROOT/build
LABDIR=$BUILD/lab-demo

say() { printf '\n### %s\n' "$*"; }

say "Installing the Debian packages the project needs (fast when already there)"
bash scripts/install-deps.sh

say "Building in $BUILD"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD.configure.log" 2>&1 \
  || { cat "$BUILD.configure.log"; exit 1; }
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

say "An IMAP session against the lab"
rc=0
python3 tests/lab/demo_session.py "$LABDIR/lab.env" || rc=$?

say "Stopping the lab"
trap - EXIT
python3 tests/lab/lab.py stop --dir "$LABDIR"
exit "$rc"
