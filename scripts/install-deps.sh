#!/usr/bin/env bash
# Installs every Debian 12 package that the build, the tests, the loopback lab
# and the packaging need.  Run as root.  Idempotent: when every package is
# already installed it does not touch apt at all (fast path).
#
# Installing must not leave system daemons running: Debian starts dovecot and
# slapd from their postinst.  A policy-rc.d that answers 101 ("action
# forbidden") stops that; if the machine has none we put a temporary one in
# place for the duration of the install and remove it afterwards.  Daemons
# that still got started by the install are stopped and disabled.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config g++ clang
  libclang-rt-14-dev  # libFuzzer and sanitizer runtimes for clang (only recommended by clang-14)
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  dovecot-core dovecot-imapd dovecot-dev dovecot-ldap
  slapd ldap-utils libldap-dev
  # tests and lab
  python3 procps iproute2 psmisc valgrind openssl
  # the other protocols a front routes (POP3, LMTP, ManageSieve, submission)
  dovecot-pop3d dovecot-lmtpd dovecot-managesieved dovecot-sieve dovecot-submissiond
  # real IMAP/POP3/ManageSieve clients the integration tests drive; UW c-client
  # (the library Alpine follows referrals with) is Debian 12 only: the tests
  # build their probe here and carry it into the Debian 13 root
  libc-client2007e-dev curl mutt isync sieve-connect
  # packaging
  debhelper devscripts lintian fakeroot dpkg-dev rpm rpmlint
  # the Debian 13 root for Dovecot 2.4 (scripts/debian13-root.sh)
  debootstrap
)
# Packages whose postinst starts a system daemon we do not want running.
DAEMONS=(dovecot slapd)

log() { printf 'install-deps: %s\n' "$*"; }

# PIDs of the system instance of daemon $1 (the one configured from /etc).
# Test daemons (the lab's, other tests') always name their own configuration
# with -c / -F / -f and are never counted.
system_pids() {
  local pid args
  for pid in $(pgrep -x "$1" || true); do
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    case "$1:$args" in
      dovecot:*" -c "*) continue ;;
      slapd:*" -F /etc/ldap/"*|slapd:*" -f /etc/ldap/"*) ;;
      slapd:*" -F "*|slapd:*" -f "*) continue ;;
    esac
    echo "$pid"
  done
}

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ $status == "ii "* ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#PACKAGES[@]} packages already installed"
  exit 0
fi
log "missing: ${missing[*]}"

# Which daemons run before the install: those are the admin's business.
declare -A was_running=()
for d in "${DAEMONS[@]}"; do
  if [[ -n $(system_pids "$d") ]]; then was_running[$d]=1; fi
done

POLICY=/usr/sbin/policy-rc.d
temp_policy=0
cleanup_policy() {
  if [[ $temp_policy -eq 1 ]]; then rm -f "$POLICY"; fi
}
trap cleanup_policy EXIT
if [[ ! -e $POLICY ]]; then
  printf '#!/bin/sh\n# temporary, from dovecot-referral scripts/install-deps.sh\nexit 101\n' >"$POLICY"
  chmod 0755 "$POLICY"
  temp_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# Every name is checked before the install so a typo fails with a clear message.
for p in "${missing[@]}"; do
  candidate=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
  if [[ -z $candidate || $candidate == "(none)" ]]; then
    log "package $p has no installation candidate" >&2
    exit 1
  fi
done
apt-get install -y --no-install-recommends "${missing[@]}"

cleanup_policy
temp_policy=0
trap - EXIT

# Anything the install started anyway (a policy-rc.d that allowed it, or a
# postinst that ignores it) is stopped and disabled.
for d in "${DAEMONS[@]}"; do
  [[ -n ${was_running[$d]:-} ]] && continue
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl disable --now "$d.service" >/dev/null 2>&1 || true
    [[ $d == dovecot ]] && systemctl disable --now dovecot.socket >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/$d ]]; then
    /etc/init.d/"$d" stop >/dev/null 2>&1 || true
    update-rc.d "$d" disable >/dev/null 2>&1 || true
  fi
  for pid in $(system_pids "$d"); do
    log "stopping system $d (pid $pid)"
    kill "$pid" 2>/dev/null || true
  done
done
log "installed: ${missing[*]}"
