#!/usr/bin/env bash
# Builds the dovecot-referral packages from a clean copy of the source tree:
#   - the Debian package with dpkg-buildpackage (packaging/debian/, debhelper),
#   - the RPM with rpmbuild -ba (packaging/rpm/dovecot-referral.spec).
# Results (.deb, dbgsym .deb, .changes, .buildinfo, .rpm, .src.rpm) go to
# packaging/out/ (gitignored) or to --out DIR.  See docs/packaging.md.
#
# Usage: scripts/build-packages.sh [--deb] [--rpm] [--out DIR] [--jobs N] [--no-check] [--keep]
#   --deb / --rpm   build only that package (default: both)
#   --no-check      do not build or run the unit tests inside the package
#                   builds (DEB_BUILD_OPTIONS=nocheck, rpmbuild --without
#                   tests); for callers that have just run them (tests/packaging)
#   --out DIR       where to put the results (default: packaging/out)
#   --jobs N        parallel build jobs (default: nproc)
#   --keep          keep the temporary build directory (its path is printed)
#
# "Clean tree": the build never uses an existing build directory.  The files
# git knows about plus untracked files that are not ignored (so work in
# progress is included, build directories are not) are copied to a temporary
# directory.  dpkg-buildpackage wants debian/ at the top of the source, so the
# copy gets packaging/debian as debian/; rpmbuild gets a tarball of the copy.
#
# Needs: dpkg-dev, debhelper, fakeroot, rpm (rpmbuild) and the build
# dependencies (scripts/install-deps.sh installs all of them).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$SRC/packaging/out"
JOBS=$(nproc)
BUILD_DEB=0
BUILD_RPM=0
KEEP=0
CHECK=1

log() { printf 'build-packages: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --deb) BUILD_DEB=1 ;;
    --rpm) BUILD_RPM=1 ;;
    --out) OUT=$2; shift ;;
    --jobs) JOBS=$2; shift ;;
    --keep) KEEP=1 ;;
    --no-check) CHECK=0 ;;
    -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
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

for tool in dpkg-buildpackage dh fakeroot tar; do
  [[ $BUILD_DEB -eq 0 && $tool != tar ]] && continue
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/install-deps.sh)"
done
if [[ $BUILD_RPM -eq 1 ]]; then
  command -v rpmbuild >/dev/null || die "rpmbuild not found (run scripts/install-deps.sh)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dref-pkg.XXXXXX")
cleanup() {
  # A failed build in a background job cannot set KEEP here: it leaves a mark.
  [[ -e $WORK/.keep ]] && KEEP=1
  if [[ $KEEP -eq 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- copy the source tree (tracked + untracked-not-ignored files) ---
TREE="$WORK/dovecot-referral-$VERSION"
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
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

build_deb() {
  local start=$SECONDS
  DEBTREE="$WORK/deb/dovecot-referral-$VERSION"
  mkdir -p "$WORK/deb"
  cp -a "$TREE" "$DEBTREE"
  rm -rf "$DEBTREE/debian"
  cp -a "$DEBTREE/packaging/debian" "$DEBTREE/debian"
  log "building the .deb in $DEBTREE"
  deb_options=${DEB_BUILD_OPTIONS:-}
  [[ $CHECK -eq 0 ]] && deb_options="${deb_options:+$deb_options }nocheck"
  (cd "$DEBTREE" && DEB_BUILD_OPTIONS="$deb_options" dpkg-buildpackage -us -uc -b -j"$JOBS") >"$WORK/deb/build.log" 2>&1 || {
    tail -n 60 "$WORK/deb/build.log" >&2
    touch "$WORK/.keep"
    die "dpkg-buildpackage failed (full log: $WORK/deb/build.log, kept)"; }
  cp "$WORK/deb/build.log" "$OUT/deb-build.log"
  find "$WORK/deb" -maxdepth 1 -type f \( -name '*.deb' -o -name '*.changes' -o -name '*.buildinfo' \) \
    -exec cp {} "$OUT/" \;
  log ".deb built in $((SECONDS - start)) s"
}

build_rpm() {
  local start=$SECONDS
  TOP="$WORK/rpm"
  mkdir -p "$TOP"/{SOURCES,SPECS,BUILD,BUILDROOT,RPMS,SRPMS}
  tar -C "$WORK" -czf "$TOP/SOURCES/dovecot-referral-$VERSION.tar.gz" "dovecot-referral-$VERSION"
  cp "$TREE/packaging/rpm/dovecot-referral.spec" "$TOP/SPECS/"
  log "building the .rpm in $TOP"
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
  cp "$TOP/build.log" "$OUT/rpm-build.log"
  find "$TOP/RPMS" "$TOP/SRPMS" -type f -name '*.rpm' -exec cp {} "$OUT/" \;
  log ".rpm built in $((SECONDS - start)) s"
}

# Both at once: each build has long single-threaded stretches (configure,
# linking, dh_strip, xz compression of the dbgsym package, rpm's scripts)
# that the other one's compiler fills.
pids=()
[[ $BUILD_DEB -eq 1 ]] && { build_deb & pids+=($!); }
[[ $BUILD_RPM -eq 1 ]] && { build_rpm & pids+=($!); }
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[[ $failed -eq 0 ]] || die "package build failed (see above)"

log "results in $OUT:"
ls -1 "$OUT" >&2
