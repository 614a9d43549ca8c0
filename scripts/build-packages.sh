#!/usr/bin/env bash
# Builds the dovecot-referral packages from a clean copy of the source tree,
# for Dovecot 2.3 (Debian 12, this host) and Dovecot 2.4 (Debian 13):
#   - the Debian package with dpkg-buildpackage (packaging/debian/, debhelper),
#     in the system whose Dovecot it is for: the 2.3 .deb on the host, the
#     2.4 .deb inside the Debian 13 root (scripts/debian13-root.sh run);
#   - the RPM with rpmbuild -ba (packaging/rpm/dovecot-referral.spec), against
#     the Dovecot of the system that runs rpmbuild (the host's: 2.3).
# Results (.deb, dbgsym .deb, .changes, .buildinfo, .rpm, .src.rpm) go to
# packaging/out/dovecot-<2.3|2.4>/ (gitignored) or to --out DIR/dovecot-<v>/.
# See docs/packaging.md.
#
# Usage: scripts/build-packages.sh [--dovecot 2.3|2.4|all] [--deb] [--rpm]
#                                  [--out DIR] [--jobs N] [--no-check] [--keep]
#   --dovecot V     build for that Dovecot only (default: all = 2.3 and 2.4)
#   --deb / --rpm   build only that package (default: both; the RPM only where
#                   rpmbuild is, for the Dovecot of the building system)
#   --no-check      do not build or run the unit tests inside the package
#                   builds (DEB_BUILD_OPTIONS=nocheck, rpmbuild --without
#                   tests); for callers that have just run them (tests/packaging)
#   --out DIR       where to put the results (default: packaging/out)
#   --jobs N        parallel build jobs per package (default: nproc)
#   --keep          keep the temporary build directory (its path is printed)
#
# "Clean tree": the build never uses an existing build directory.  The files
# git knows about plus untracked files that are not ignored (so work in
# progress is included, build directories are not) are copied to a temporary
# directory.  dpkg-buildpackage wants debian/ at the top of the source, so the
# copy gets packaging/debian as debian/; rpmbuild gets a tarball of the copy.
#
# Needs: dpkg-dev, debhelper, fakeroot, rpm (rpmbuild) and the build
# dependencies (scripts/install-deps.sh installs all of them); for 2.4 on a
# Debian 12 host, the Debian 13 root (built on first use, cached).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$SRC/packaging/out"
JOBS=$(nproc)
BUILD_DEB=0
BUILD_RPM=0
KEEP=0
CHECK=1
DOVECOTS=(2.3 2.4)

log() { printf 'build-packages: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dovecot)
      case ${2:-} in
        2.3|2.4) DOVECOTS=("$2") ;;
        all) DOVECOTS=(2.3 2.4) ;;
        *) die "--dovecot takes 2.3, 2.4 or all" ;;
      esac
      shift ;;
    --deb) BUILD_DEB=1 ;;
    --rpm) BUILD_RPM=1 ;;
    --out) OUT=$2; shift ;;
    --jobs) JOBS=$2; shift ;;
    --keep) KEEP=1 ;;
    --no-check) CHECK=0 ;;
    -h|--help) sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
RPM_ASKED=$BUILD_RPM
if [[ $BUILD_DEB -eq 0 && $BUILD_RPM -eq 0 ]]; then BUILD_DEB=1; BUILD_RPM=1; fi

# --- the version lives in CMakeLists.txt; both recipes must agree with it ---
VERSION=$(sed -n 's/^project(dovecot-referral VERSION \([0-9][0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[[ -n $VERSION ]] || die "no project(dovecot-referral VERSION x.y.z) in CMakeLists.txt"
DEB_VERSION=$(dpkg-parsechangelog -l "$SRC/packaging/debian/changelog" -S Version)
RPM_VERSION=$(sed -n 's/^Version: *//p' "$SRC/packaging/rpm/dovecot-referral.spec")
[[ $DEB_VERSION == "$VERSION" ]] ||
  die "packaging/debian/changelog is at $DEB_VERSION, CMakeLists.txt at $VERSION: add a changelog entry (dch -v $VERSION)"
[[ $RPM_VERSION == "$VERSION" ]] ||
  die "packaging/rpm/dovecot-referral.spec Version is $RPM_VERSION, CMakeLists.txt says $VERSION"

# --- which Dovecot this system has, and where each requested one is built ---
# A package is built only in the system whose dovecot-dev it is for: the
# plugins are pinned to that exact Dovecot build (docs/packaging.md).
LOCAL_DOVECOT=$(dpkg-query -W -f='${Version}' dovecot-dev 2>/dev/null |
                sed -n 's/^\([0-9]*:\)\{0,1\}\([0-9]*\.[0-9]*\).*/\2/p')
[[ -n $LOCAL_DOVECOT ]] || die "dovecot-dev is not installed (run scripts/install-deps.sh)"
NATIVE=0   # build for this system's Dovecot
IN_ROOT=0  # build the 2.4 .deb in the Debian 13 root (from a Debian 12 host)
for v in "${DOVECOTS[@]}"; do
  if [[ $v == "$LOCAL_DOVECOT" ]]; then
    NATIVE=1
  elif [[ $v == 2.4 && $LOCAL_DOVECOT == 2.3 ]]; then
    if [[ $BUILD_DEB -eq 1 ]]; then IN_ROOT=1; fi
    if [[ $RPM_ASKED -eq 1 && ${#DOVECOTS[@]} -eq 1 ]]; then
      die "no RPM for Dovecot 2.4 here: rpmbuild builds against the Dovecot of the system it runs on (this one has $LOCAL_DOVECOT); the spec builds for 2.4 on Fedora (docs/packaging.md)"
    fi
  else
    die "Dovecot $v packages are built on a system with Dovecot $v (this one has $LOCAL_DOVECOT; 2.3 packages on the Debian 12 host)"
  fi
done
# The RPM is built only next to the native .deb, and by default only where
# rpmbuild is installed (the Debian 13 root has no rpm).
[[ $NATIVE -eq 1 ]] || BUILD_RPM=0
if [[ $BUILD_RPM -eq 1 && $RPM_ASKED -eq 0 ]] && ! command -v rpmbuild >/dev/null; then
  log "no rpmbuild on this system: building no .rpm"
  BUILD_RPM=0
fi
NATIVE_DEB=$(( NATIVE && BUILD_DEB ))
NATIVE_RPM=$(( NATIVE && BUILD_RPM ))

for tool in dpkg-buildpackage dh fakeroot tar; do
  [[ $NATIVE_DEB -eq 0 && $tool != tar ]] && continue
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/install-deps.sh)"
done
if [[ $NATIVE_RPM -eq 1 ]]; then
  command -v rpmbuild >/dev/null || die "rpmbuild not found (run scripts/install-deps.sh)"
fi

# Under /tmp, which the Debian 13 root shares with the host: the 2.4 build's
# results are written there from inside the root.
WORK=$(mktemp -d /tmp/dref-pkg.XXXXXX)
cleanup() {
  # A failed build in a background job cannot set KEEP here: it leaves a mark.
  [[ -e $WORK/.keep ]] && KEEP=1
  if [[ $KEEP -eq 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
NATIVE_OUT="$OUT/dovecot-$LOCAL_DOVECOT"

# --- copy the source tree (tracked + untracked-not-ignored files) ---
TREE="$WORK/dovecot-referral-$VERSION"
if [[ $NATIVE -eq 1 ]]; then
  mkdir -p "$TREE"
  if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Files deleted in the work tree but still in the index are skipped.
    (cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
       while IFS= read -r -d '' f; do [[ -f $f || -L $f ]] && printf '%s\0' "$f"; done |
       tar --null -T - -cf -) | tar -xf - -C "$TREE"
  else
    tar -C "$SRC" --exclude='./build*' --exclude='./_build*' --exclude='./packaging/out' \
        --exclude='./lab-run' --exclude='./.git' -cf - . | tar -xf - -C "$TREE"
  fi
  rm -rf "$NATIVE_OUT"
  mkdir -p "$NATIVE_OUT"
fi

build_deb() {
  local start=$SECONDS
  DEBTREE="$WORK/deb/dovecot-referral-$VERSION"
  mkdir -p "$WORK/deb"
  cp -a "$TREE" "$DEBTREE"
  rm -rf "$DEBTREE/debian"
  cp -a "$DEBTREE/packaging/debian" "$DEBTREE/debian"
  log "building the .deb for Dovecot $LOCAL_DOVECOT in $DEBTREE"
  deb_options=${DEB_BUILD_OPTIONS:-}
  [[ $CHECK -eq 0 ]] && deb_options="${deb_options:+$deb_options }nocheck"
  (cd "$DEBTREE" && DEB_BUILD_OPTIONS="$deb_options" dpkg-buildpackage -us -uc -b -j"$JOBS") >"$WORK/deb/build.log" 2>&1 || {
    tail -n 60 "$WORK/deb/build.log" >&2
    touch "$WORK/.keep"
    die "dpkg-buildpackage failed (full log: $WORK/deb/build.log, kept)"; }
  cp "$WORK/deb/build.log" "$NATIVE_OUT/deb-build.log"
  find "$WORK/deb" -maxdepth 1 -type f \( -name '*.deb' -o -name '*.changes' -o -name '*.buildinfo' \) \
    -exec cp {} "$NATIVE_OUT/" \;
  log ".deb for Dovecot $LOCAL_DOVECOT built in $((SECONDS - start)) s"
}

build_rpm() {
  local start=$SECONDS
  TOP="$WORK/rpm"
  mkdir -p "$TOP"/{SOURCES,SPECS,BUILD,BUILDROOT,RPMS,SRPMS}
  tar -C "$WORK" -czf "$TOP/SOURCES/dovecot-referral-$VERSION.tar.gz" "dovecot-referral-$VERSION"
  cp "$TREE/packaging/rpm/dovecot-referral.spec" "$TOP/SPECS/"
  log "building the .rpm for Dovecot $LOCAL_DOVECOT in $TOP"
  # --nodeps: on a Debian host the rpm database is empty, so BuildRequires
  # cannot be checked by rpm (dpkg-checkbuilddeps covers the same packages).
  rpm_check=()
  [[ $CHECK -eq 0 ]] && rpm_check=(--nocheck --without tests)
  host_fixes=()
  if [[ -e /etc/debian_version ]]; then
    # Debian's rpm runs brp-compress (which uses bash's `read -d`) with
    # /bin/sh = dash, so man pages stay uncompressed; run it with bash.
    host_fixes+=(--define "__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}")
  fi
  rpmbuild -ba --nodeps "${rpm_check[@]}" "${host_fixes[@]}" \
      --define "_topdir $TOP" \
      --define "_smp_mflags -j$JOBS" \
      "$TOP/SPECS/dovecot-referral.spec" >"$TOP/build.log" 2>&1 || {
    tail -n 60 "$TOP/build.log" >&2
    touch "$WORK/.keep"
    die "rpmbuild failed (full log: $TOP/build.log, kept)"; }
  cp "$TOP/build.log" "$NATIVE_OUT/rpm-build.log"
  find "$TOP/RPMS" "$TOP/SRPMS" -type f -name '*.rpm' -exec cp {} "$NATIVE_OUT/" \;
  log ".rpm for Dovecot $LOCAL_DOVECOT built in $((SECONDS - start)) s"
}

# The 2.4 .deb from a Debian 12 host: this script again, inside the Debian 13
# root (dpkg-buildpackage, debhelper and gcc of Debian 13, its dovecot-dev).
# The source tree is bind-mounted at the same path there, and the results
# are written to $WORK (under /tmp, shared) before they are copied to OUT.
build_deb_in_root() {
  local start=$SECONDS root_out="$WORK/root-out" args=(--dovecot 2.4 --deb --jobs "$JOBS")
  [[ $CHECK -eq 0 ]] && args+=(--no-check)
  [[ $KEEP -eq 1 ]] && args+=(--keep)
  mkdir -p "$root_out"
  log "building the .deb for Dovecot 2.4 in the Debian 13 root"
  bash "$SRC/scripts/debian13-root.sh" ensure >"$WORK/root-ensure.log" 2>&1 || {
    tail -n 30 "$WORK/root-ensure.log" >&2
    touch "$WORK/.keep"
    die "the Debian 13 root could not be prepared (scripts/debian13-root.sh ensure)"; }
  bash "$SRC/scripts/debian13-root.sh" run bash "$SRC/scripts/build-packages.sh" \
      "${args[@]}" --out "$root_out" || {
    touch "$WORK/.keep"
    die "the Dovecot 2.4 .deb build in the Debian 13 root failed (see above)"; }
  rm -rf "$OUT/dovecot-2.4"
  cp -a "$root_out/dovecot-2.4" "$OUT/dovecot-2.4"
  log ".deb for Dovecot 2.4 built in the Debian 13 root in $((SECONDS - start)) s"
}

# All at once: each build has long single-threaded stretches (configure,
# linking, dh_strip, xz compression of the dbgsym package, rpm's scripts)
# that the others' compilers fill.
pids=()
[[ $NATIVE_DEB -eq 1 ]] && { build_deb & pids+=($!); }
[[ $NATIVE_RPM -eq 1 ]] && { build_rpm & pids+=($!); }
[[ $IN_ROOT -eq 1 ]] && { build_deb_in_root & pids+=($!); }
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[[ $failed -eq 0 ]] || die "package build failed (see above)"

log "results in $OUT:"
for v in "${DOVECOTS[@]}"; do
  [[ -d $OUT/dovecot-$v ]] && (cd "$OUT" && ls -1d "dovecot-$v"/* >&2)
done
exit 0
