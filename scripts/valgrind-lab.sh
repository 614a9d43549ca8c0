#!/usr/bin/env bash
# Runs the lab integration tests once with the front's Dovecot auth and imap
# processes under valgrind (memcheck) and reports every error attributed to
# our code: a valgrind error or definite leak with a frame in
# libauthdb_referral.so or lib95_*referral* (issue 6, item 8).
#
#   scripts/valgrind-lab.sh [--build-dir B] [--dir D] [--addr-base N] [test.py ...]
#
# Default tests: the shared-lab login and mailbox integration tests.  The lab
# (tests/lab/lab.py --valgrind) runs with the plugins of the build dir
# (default ./build, already built) on 127.0.0.70-73 in ./build/lab-valgrind.
# Exit status: 0 when the tests passed and no error is ours; 1 otherwise.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build dir= addr_base=70
tests=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --addr-base) addr_base=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "valgrind-lab.sh: unknown option $1" >&2; exit 2 ;;
    *) tests+=("$1"); shift ;;
  esac
done
dir=${dir:-$build/lab-valgrind}
if [[ ${#tests[@]} -eq 0 ]]; then
  tests=(tests/integration/login/passdb/test_referral_login.py
         tests/integration/mailbox/test_mailbox_commands.py
         tests/integration/mailbox/test_mailbox_lists.py)
fi
command -v valgrind >/dev/null || { echo "valgrind-lab.sh: valgrind not installed" >&2; exit 1; }
[[ -f $build/plugin/auth/libauthdb_referral.so ]] ||
  { echo "valgrind-lab.sh: plugins not built in $build" >&2; exit 1; }

lab() { python3 "$root/tests/lab/lab.py" "$@" --dir "$dir"; }
stop_lab() { lab stop >/dev/null 2>&1 || true; }
trap stop_lab EXIT
lab start --addr-base "$addr_base" --plugins build --build-dir "$build" --valgrind
export DREF_LAB_ENV=$dir/lab.env DREF_BUILD_DIR=$build
# The login tests import their shared helpers from tests/integration/login
# (as ctest runs them: tests/integration/login/CMakeLists.txt).
export PYTHONPATH=$root/tests/integration/login${PYTHONPATH:+:$PYTHONPATH}

test_rc=0
for t in "${tests[@]}"; do
  echo "== valgrind-lab: $t"
  if ! python3 "$root/$t"; then test_rc=1; echo "== valgrind-lab: $t FAILED"; fi
done
stop_lab
trap - EXIT

# Every error block of every log; ours when one of its frames is in our modules.
set +e
python3 - "$dir/front/valgrind" <<'PY'
import glob, os, re, sys
logs = sorted(glob.glob(os.path.join(sys.argv[1], "*.log")))
ours_re = re.compile(r"libauthdb_referral|lib95_\w*referral|dref::")
total = ours = unresolved = 0
reports = []
for path in logs:
    block = []
    lines = open(path, errors="replace").read().splitlines() + ["==0== "]
    for line in lines:
        body = re.sub(r"^==\d+== ?", "", line)
        if body.strip():
            block.append(body)
            continue
        if block and not block[0].startswith(("could not unlink", "Memcheck", "Copyright", "Using Valgrind",
                                              "Command:", "Parent PID", "HEAP SUMMARY",
                                              "LEAK SUMMARY", "ERROR SUMMARY", "For lists")):
            total += 1
            frames = [b for b in block if re.match(r"\s*(at|by) 0x", b)]
            if any(ours_re.search(b) for b in block):
                ours += 1
                reports.append("%s:\n  %s" % (os.path.basename(path), "\n  ".join(block[:25])))
            elif frames and sum("???" in f for f in frames) * 2 > len(frames):
                # Frames of an unloaded module cannot be named (lab.py sets
                # GDB=1 so Dovecot keeps modules loaded): not attributable.
                unresolved += 1
        block = []
print("valgrind-lab: %d process logs, %d error/leak reports, %d attributed to dovecot-referral, "
      "%d with mostly unresolved frames" % (len(logs), total, ours, unresolved))
for r in reports:
    print(r)
sys.exit(1 if ours or unresolved else 0)
PY
vg_rc=$?
set -e
echo "valgrind-lab: tests exit $test_rc, valgrind exit $vg_rc"
[[ $test_rc -eq 0 && $vg_rc -eq 0 ]]
