#!/usr/bin/env bash
# Builds the UW c-client probe of the client tests (tests/clients/) on THIS
# machine and bundles it so that it also runs inside the Debian 13 root,
# which has no c-client package (libc-client2007e-dev is Debian 12 only):
#
#   scripts/cclient-probe.sh OUTDIR
#
# OUTDIR/dref-cclient-probe is then a small sh wrapper that runs the probe
# with the host's own dynamic loader and libraries copied next to it
# (OUTDIR/lib: everything `ldd` lists, and ld-linux), so it never mixes with
# the root's glibc.  scripts/test.sh calls this before the 2.4 ctest run
# with OUTDIR = <2.4 build dir>/cclient-probe, where the 2.4 build's client
# test looks for it (tests/integration/login/CMakeLists.txt).  Without
# c-client on the host this fails, and so does that test: it never skips.
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(cd "$1" && pwd)

rm -rf "$OUT/bin" "$OUT/lib" "$OUT/dref-cclient-probe"
cmake -S "$SRC/tests/clients" -B "$OUT/host-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$OUT/host-build" -j2 >/dev/null
probe=$OUT/host-build/dref-cclient-probe
if [[ ! -x $probe ]]; then
  echo "cclient-probe.sh: the probe was not built: no libc-client on this machine" \
       "(scripts/install-deps.sh installs libc-client2007e-dev on Debian 12)" >&2
  exit 1
fi

mkdir -p "$OUT/bin" "$OUT/lib"
cp "$probe" "$OUT/bin/"
# ldd: "name => /path (addr)" for libraries, "/path (addr)" for the loader.
loader=""
while read -r line; do
  case $line in
    *"=> not found"*) echo "cclient-probe.sh: $line" >&2; exit 1 ;;
    *"=> /"*) lib=${line#*=> }; cp -L "${lib%% (*}" "$OUT/lib/" ;;
    /*) loader=${line%% (*}; cp -L "$loader" "$OUT/lib/" ;;
  esac
done < <(ldd "$probe")
[[ -n $loader ]] || { echo "cclient-probe.sh: no dynamic loader in ldd's output" >&2; exit 1; }

cat >"$OUT/dref-cclient-probe" <<EOF
#!/bin/sh
# The c-client probe with the libraries of the machine it was built on
# (scripts/cclient-probe.sh).  exec: the test's pid is the probe's pid.
d=\$(dirname "\$(readlink -f "\$0")")
exec "\$d/lib/$(basename "$loader")" --library-path "\$d/lib" "\$d/bin/dref-cclient-probe" "\$@"
EOF
chmod 755 "$OUT/dref-cclient-probe"
echo "cclient-probe.sh: $OUT/dref-cclient-probe ($(ls "$OUT/lib" | wc -l) libraries)"
