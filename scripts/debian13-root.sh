#!/usr/bin/env bash
# A Debian 13 ("trixie", Dovecot 2.4) root for building and testing the
# project on a Debian 12 machine (docs/dovecot-2.4.md).
#
#   scripts/debian13-root.sh ensure          build the root if it is missing or
#                                            its package list changed (cached)
#   scripts/debian13-root.sh run CMD [ARG..] run CMD inside it (as root, in the
#                                            same directory as the caller)
#   scripts/debian13-root.sh mount | umount  attach / detach /proc, /dev, /tmp and
#                                            the source tree (run mounts them)
#   scripts/debian13-root.sh teardown        stop what runs in it, unmount, delete it
#   scripts/debian13-root.sh path            print the root's directory
#   scripts/debian13-root.sh fresh DIR [SUITE]
#                                            make DIR a pristine root of SUITE
#                                            (minbase + the lab's tools, no
#                                            Dovecot) for install tests:
#                                            trixie (default; on the host and
#                                            inside the root) or bookworm
#                                            (Debian 12, on the host only).
#                                            Use it with DREF_DEBIAN13_ROOT=DIR
#                                            and run / umount / teardown.
#
# The root is made with debootstrap from the Debian mirror this machine's apt
# already uses (read from the apt sources, never written here) and lives in
# $DREF_DEBIAN13_ROOT (default /var/cache/dovecot-referral/debian13-root).
# It is a chroot, not a container: it shares the host's network, so a Dovecot
# started in it listens on the host's loopback and host-side clients reach it.
# The source tree is bind-mounted at the same path inside, so build trees,
# lab directories and the paths written into lab.env are the same on both
# sides.  Daemons started with `run` keep the mounts busy until they stop.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=/var/cache/dovecot-referral
ROOT=${DREF_DEBIAN13_ROOT:-$CACHE/debian13-root}
SUITE=trixie
STAMP=$ROOT/.dref-root-stamp

# Everything the build, the tests, the lab and the Debian packaging need on
# Dovecot 2.4.  Changing this list rebuilds the root at the next `ensure`.
PACKAGES=(
  build-essential cmake pkg-config g++
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  dovecot-core dovecot-imapd dovecot-dev dovecot-ldap
  slapd ldap-utils libldap-dev
  python3 procps iproute2 psmisc ca-certificates openssl
  dovecot-pop3d dovecot-lmtpd dovecot-managesieved dovecot-sieve dovecot-submissiond
  curl mutt isync sieve-connect
  debhelper devscripts lintian fakeroot dpkg-dev
)

# The pristine base that `fresh` copies (tests/packaging installs each
# release's .deb into such a copy with apt, so the package's Depends pull
# Dovecot from the mirror): minbase plus what the lab and the integration
# tests run, and no Dovecot.  One base per suite (select_fresh); rebuilt when
# this list changes.
FRESH_PACKAGES=(python3 slapd ldap-utils procps iproute2 psmisc ca-certificates openssl)

# Sets FRESH_SUITE, FRESH_BASE (the base's tarball) and FRESH_SECURITY (also
# use the host's security archive) for suite $1 (default: $SUITE).
#   trixie: the base is a tarball inside the build root, so `fresh` also
#     works from inside it (the 2.4 ctest run); made at `ensure`.  The build
#     root uses the main archive only, so the base does too: the Dovecot
#     version the 2.4 package pins is the one found there.
#   bookworm: the host's own release (the 2.3 package is built on the host);
#     a tarball on the host, made on first use.  The host's dovecot-dev may
#     come from bookworm-security (Debian's 2.3.19.1 security updates do), so
#     the base has the host's security archive too, as a Debian 12 server
#     has, or the package's exact pin could not be met.
select_fresh() {
  FRESH_SUITE=${1:-$SUITE}
  FRESH_SECURITY=0
  case $FRESH_SUITE in
    trixie)
      if [[ ${DREF_DOVECOT_ROOT:-} == debian13 ]]; then
        FRESH_BASE=$CACHE/fresh-base.tar   # inside the build root
      else
        FRESH_BASE=$ROOT/var/cache/dovecot-referral/fresh-base.tar
      fi ;;
    bookworm)
      [[ ${DREF_DOVECOT_ROOT:-} != debian13 ]] ||
        die "fresh bookworm roots are made on the Debian 12 host, not inside the Debian 13 root"
      FRESH_BASE=$CACHE/fresh-base-bookworm.tar
      FRESH_SECURITY=1 ;;
    *) die "fresh: unknown suite $FRESH_SUITE (trixie | bookworm)" ;;
  esac
}

log() { printf 'debian13-root: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot, mount)"

# The mirror of the machine's own apt configuration: deb822 sources first,
# then the one-line format.  The main archive, or with `host_mirror
# security` the security archive (then "" when the host has none).
host_mirror() {
  local f uri sec=0
  [[ ${1:-} == security ]] && sec=1
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    uri=$(awk -v sec=$sec '/^URIs:/ { for (i = 2; i <= NF; i++) if (($i ~ /security/) == sec) { print $i; exit } }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    uri=$(awk -v sec=$sec '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if (($i ~ /security/) == sec) { print $i; exit } else break } }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  [[ $sec -eq 1 ]] || die "no Debian mirror found in /etc/apt/sources.list{,.d}"
}

wanted_stamp() {
  printf '%s\n' "$SUITE" "${PACKAGES[@]}" | sha256sum | cut -d' ' -f1
}

is_mounted() { mountpoint -q "$1" 2>/dev/null; }

do_mount() {
  [[ -d $ROOT/usr ]] || die "no root at $ROOT (run: $0 ensure)"
  is_mounted "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  is_mounted "$ROOT/dev" || mount --rbind /dev "$ROOT/dev"
  mkdir -p "$ROOT/tmp"
  is_mounted "$ROOT/tmp" || mount --bind /tmp "$ROOT/tmp"
  mkdir -p "$ROOT$SRC"
  is_mounted "$ROOT$SRC" || mount --bind "$SRC" "$ROOT$SRC"
  cp -f /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
}

# Processes whose root is this root (lab daemons left behind by a failed test).
root_pids() {
  local pid real
  real=$(readlink -f "$ROOT")
  for pid in /proc/[0-9]*; do
    [[ $(readlink "$pid/root" 2>/dev/null) == "$real" ]] && echo "${pid#/proc/}"
  done
  return 0
}

# Processes in the root that belong to this source tree: their working
# directory or command line is under $SRC (daemons a failed test left behind,
# a build still running).  Other trees' users of the same root are left alone.
tree_pids() {
  local pid
  for pid in $(root_pids); do
    local cwd
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
    # Seen from the host, a chrooted process's cwd is under $ROOT$SRC.
    if [[ $cwd == "$SRC" || $cwd == "$SRC"/* || $cwd == "$ROOT$SRC" || $cwd == "$ROOT$SRC"/* ]] ||
       tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$SRC/"; then
      echo "$pid"
    fi
  done
  return 0
}

# Bind mounts of other source trees that no longer exist on the host (a
# checkout or worktree removed while still attached): nothing can use them,
# and they would keep the root's mount table growing.
umount_stale_trees() {
  local m real
  real=$(readlink -f "$ROOT")
  while read -r m; do
    case $m in "$real/proc" | "$real/proc/"* | "$real/dev" | "$real/dev/"* | "$real/tmp" | "$real/tmp/"*) continue ;; esac
    [[ -d ${m#"$real"} ]] && continue
    log "detaching the bind mount of a removed tree: ${m#"$real"}"
    umount -R -l "$m" 2>/dev/null || true
  done < <(awk -v root="$real/" 'index($5, root) == 1 { print $5 }' /proc/self/mountinfo | sort -u)
  return 0
}

# Detaches this tree from the root: stops this tree's processes in it and
# unmounts its bind mount.  /proc, /dev and /tmp are unmounted only when no
# process runs in the root any more (another checkout may be using it).
# `teardown` (force) stops everything.
do_umount() {
  local force=${1:-} pids m
  if [[ $force == force ]]; then pids=$(root_pids); else pids=$(tree_pids); fi
  if [[ -n $pids ]]; then
    log "stopping processes still running in the root: $(echo $pids)"
    kill $pids 2>/dev/null || true
    sleep 1
    if [[ $force == force ]]; then pids=$(root_pids); else pids=$(tree_pids); fi
    [[ -n $pids ]] && kill -9 $pids 2>/dev/null || true
  fi
  if is_mounted "$ROOT$SRC"; then
    umount -R "$ROOT$SRC" 2>/dev/null || umount -R -l "$ROOT$SRC"
  fi
  umount_stale_trees
  if [[ -n $(root_pids) ]]; then
    log "other processes still run in the root: /proc, /dev and /tmp stay mounted"
    return 0
  fi
  for m in "$ROOT/tmp" "$ROOT/dev" "$ROOT/proc"; do
    if is_mounted "$m"; then
      umount -R "$m" 2>/dev/null || umount -R -l "$m"
    fi
  done
  return 0
}

install_packages() {
  # No daemon may start from a postinst (dovecot, slapd): policy-rc.d says no.
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
  chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get update
  chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${PACKAGES[@]}"
  chroot "$ROOT" apt-get clean
}

do_ensure() {
  local want
  want=$(wanted_stamp)
  if [[ -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
    do_mount
    select_fresh; ensure_fresh_base
    log "root ready at $ROOT ($(chroot "$ROOT" dpkg-query -W -f='${Version}' dovecot-core 2>/dev/null || echo '?'))"
    return
  fi
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap ||
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap; }
  }
  if [[ -d $ROOT ]]; then
    log "package list changed or root incomplete: rebuilding $ROOT"
    do_teardown
  fi
  local mirror start
  mirror=$(host_mirror)
  start=$(date +%s)
  log "debootstrap $SUITE into $ROOT from the host's mirror"
  mkdir -p "$(dirname "$ROOT")"
  local tmp=$ROOT.partial
  if [[ -d $tmp ]]; then do_umount_partial "$tmp"; rm -rf --one-file-system "$tmp"; fi
  debootstrap --variant=minbase "$SUITE" "$tmp" "$mirror" >"$tmp.log" 2>&1 ||
    { tail -30 "$tmp.log" >&2; die "debootstrap failed (log: $tmp.log)"; }
  mv "$tmp" "$ROOT"
  rm -f "$tmp.log"
  do_mount
  install_packages
  echo "$want" >"$STAMP"
  log "root built in $(( $(date +%s) - start ))s: Dovecot $(chroot "$ROOT" dpkg-query -W -f='${Version}' dovecot-core)"
  select_fresh; ensure_fresh_base
}

fresh_stamp() {
  { echo "$FRESH_SUITE"; [[ $FRESH_SECURITY -eq 0 ]] || echo "$FRESH_SUITE-security"
    printf '%s\n' "${FRESH_PACKAGES[@]}"; } | sha256sum | cut -d' ' -f1
}

# Builds $FRESH_BASE (select_fresh) when it is missing or FRESH_PACKAGES
# changed: its own
# debootstrap (the build root has build tools and Dovecot installed, so it is
# not pristine), the lab's tools, a policy-rc.d that keeps postinsts from
# starting daemons (dovecot-core's would start a system Dovecot on the
# host's port 143), then a tarball.  Serialised: several callers may ensure.
ensure_fresh_base() {
  local want tmp mirror security start
  want=$(fresh_stamp)
  [[ -f $FRESH_BASE && $(cat "$FRESH_BASE.stamp" 2>/dev/null) == "$want" ]] && return 0
  mkdir -p "$(dirname "$FRESH_BASE")"
  exec 8>"$FRESH_BASE.lock"
  flock 8
  if [[ -f $FRESH_BASE && $(cat "$FRESH_BASE.stamp" 2>/dev/null) == "$want" ]]; then
    exec 8>&-; return 0
  fi
  command -v debootstrap >/dev/null || die "debootstrap not found (scripts/install-deps.sh installs it)"
  start=$(date +%s)
  mirror=$(host_mirror)
  security=
  if [[ $FRESH_SECURITY -eq 1 ]]; then
    security=$(host_mirror security)
    [[ -n $security ]] || die "the host's apt sources have no security archive for $FRESH_SUITE-security"
  fi
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/fresh-base.XXXXXX")
  chmod 0755 "$tmp"   # the root directory of every copy (mktemp makes it 0700)
  log "debootstrap $FRESH_SUITE for the pristine install-test base ($tmp)"
  if ! debootstrap --variant=minbase "$FRESH_SUITE" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
    tail -30 "$tmp.log" >&2; rm -rf --one-file-system "$tmp"
    die "debootstrap of the fresh base failed (log: $tmp.log)"
  fi
  [[ -z $security ]] ||
    echo "deb $security $FRESH_SUITE-security main" >>"$tmp/etc/apt/sources.list"
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 0755 "$tmp/usr/sbin/policy-rc.d"
  cp -f /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
  mount -t proc proc "$tmp/proc"
  local ok=1
  chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get update >>"$tmp.log" 2>&1 &&
    chroot "$tmp" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends "${FRESH_PACKAGES[@]}" >>"$tmp.log" 2>&1 &&
    chroot "$tmp" apt-get clean || ok=0
  umount "$tmp/proc" 2>/dev/null || umount -l "$tmp/proc"
  if [[ $ok -eq 0 ]]; then
    tail -30 "$tmp.log" >&2; rm -rf --one-file-system "$tmp"
    die "installing the lab's tools into the fresh base failed (log: $tmp.log)"
  fi
  tar --numeric-owner -C "$tmp" -cf "$FRESH_BASE.partial" .
  mv "$FRESH_BASE.partial" "$FRESH_BASE"
  echo "$want" >"$FRESH_BASE.stamp"
  rm -rf --one-file-system "$tmp" "$tmp.log"
  exec 8>&-
  log "fresh base ready in $(( $(date +%s) - start ))s: $FRESH_BASE"
}

do_fresh() {
  local dir=${1:-}
  [[ -n $dir ]] || die "fresh: no directory"
  select_fresh "${2:-}"
  # The bookworm base is the host's own: made here on first use.
  [[ $FRESH_SUITE != bookworm ]] || ensure_fresh_base
  [[ -f $FRESH_BASE ]] || die "no fresh base at $FRESH_BASE (run on the host: $0 ensure)"
  if [[ -e $dir ]] && [[ -n $(ls -A "$dir") ]]; then
    die "fresh: $dir exists and is not empty"
  fi
  mkdir -p "$dir"
  # Numeric owners: the base's users (_apt, ...) are not the host's.
  tar --numeric-owner -C "$dir" -xf "$FRESH_BASE"
  # "/" of a root must be searchable by every user (Dovecot's mail processes
  # run as the mail uid), whatever mode the base's top directory had.
  chmod 0755 "$dir"
  cp -f /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
  log "fresh $FRESH_SUITE root at $dir"
}

do_umount_partial() {
  local m
  for m in "$1/proc" "$1/dev"; do is_mounted "$m" && umount -R -l "$m"; done
  return 0
}

do_teardown() {
  [[ -d $ROOT ]] || return 0
  do_umount force
  # Never delete through a mount that is still there.
  local m
  m=$(awk -v r="$(readlink -f "$ROOT")/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | head -1)
  [[ -z $m ]] || die "$m is still mounted; not deleting $ROOT"
  rm -rf --one-file-system "$ROOT"
  log "removed $ROOT"
}

do_run() {
  [[ $# -gt 0 ]] || die "run: no command"
  do_mount
  local cwd=$PWD
  [[ -d $ROOT$cwd ]] || cwd=$SRC
  exec chroot "$ROOT" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    ${CI:+CI=$CI} ${DREF_TEST_HARDENING:+DREF_TEST_HARDENING=$DREF_TEST_HARDENING} \
    ${DREF_LAB_BASE:+DREF_LAB_BASE=$DREF_LAB_BASE} \
    DREF_DOVECOT_ROOT=debian13 \
    /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" "$@"
}

case "${1:-ensure}" in
  ensure) do_ensure ;;
  run) shift; do_run "$@" ;;
  mount) do_mount ;;
  umount) do_umount ;;
  teardown) do_teardown ;;
  path) echo "$ROOT" ;;
  fresh) shift; do_fresh "$@" ;;
  *) die "unknown command: $1 (ensure | run CMD | mount | umount | teardown | path | fresh DIR [SUITE])" ;;
esac
