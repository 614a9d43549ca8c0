#!/usr/bin/env python3
"""A front configured the way docs/packaging.md and the snippet itself tell
an administrator: the INSTALLED /etc/dovecot/conf.d/95-referral.conf with its
blocks uncommented, the installed settings file, the installed modules.  Real
clients then get what the lab's front gives them (install_test.py runs this
in the system the package is installed in, with the lab running):

  - rita (home1, policy refer): LOGIN -> NO [REFERRAL imap://rita;AUTH=*@home1...]
  - alice (home1, default policy proxy): LOGIN -> OK, proxied to home1
  - carol (home on this front): LOGIN -> OK; SELECT Shared/Projects (a
    mailbox on home2) -> NO [REFERRAL imap://...home2.../Shared/Projects]

    snippet_front.py --lab-env <lab>/lab.env --dir DIR

The front is a lab DovecotInstance on the lab's front address (so
local_names in the lab's settings file, which the lab wrote to
/etc/dovecot/dovecot-referral.conf.ext, names it) and a port of its own.  Its
base configuration already has the verified first passdb (passwd-file with
result_success = continue-ok), so the snippet's example of that passdb is
left out; everything else of the snippet is used as is.  Exit 0 when every
check passed; the front is always stopped.
"""
import argparse
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))

import lab  # noqa: E402
import lab_dovecot  # noqa: E402
import lab_process  # noqa: E402
from imap_client import ImapClient  # noqa: E402

SNIPPET = "/etc/dovecot/conf.d/95-referral.conf"


def enabled_snippet():
    """The installed snippet with every "#setting" line uncommented ("##"
    lines stay comments), minus the example first passdb."""
    with open(SNIPPET, encoding="utf-8") as f:
        text = re.sub(r"(?m)^(\s*)#(?!#)", r"\1", f.read())
    example = re.compile(r"(?m)^passdb[^{\n]*\{\n(?:  .*\n)*?  result_success = continue-ok\n\}\n")
    found = [m for m in example.finditer(text) if "passwd" in m.group(0)]
    if len(found) != 1:
        raise SystemExit("%s: expected one example passwd-file passdb with result_success = "
                         "continue-ok, found %d" % (SNIPPET, len(found)))
    return text[:found[0].start()] + text[found[0].end():]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lab-env", required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    env = lab.read_env(args.lab_env)
    shutil.rmtree(args.dir, ignore_errors=True)
    os.makedirs(args.dir)
    os.chmod(args.dir, 0o755)

    include = enabled_snippet()
    addr = env["FRONT_ADDR"]
    port = lab_process.pick_port([addr])
    front = lab_dovecot.DovecotInstance("snipfront", args.dir, addr, port, lab.USERS)
    front.prepare(include="# installed %s, uncommented\n%s" % (SNIPPET, include))
    front.finish_prepare()
    problems = []

    def check(what, ok, line):
        print("  %-58s %s  %r" % (what, "ok" if ok else "FAILED", line))
        if not ok:
            problems.append("%s: %r" % (what, line))

    try:
        front.start()
        print("front with the installed snippet enabled: %s:%d (%s)" % (addr, port, front.conf))
        home_port = env["HOME_PORT"]
        with ImapClient.connect(addr, port) as c:
            _, line = c.login("a1", env["REFER_USER"], env["REFER_PASS"])
            want = rb"^a1 NO \[REFERRAL imap://%s;AUTH=\*@%s:%s/\] " % (
                env["REFER_USER"].encode(), re.escape(env["HOME1_ADDR"]).encode(),
                home_port.encode())
            check("login referral for %s (home1, policy refer)" % env["REFER_USER"],
                  re.match(want, line) is not None, line)
        with ImapClient.connect(addr, port) as c:
            _, line = c.login("b1", env["HOME1_USER"], env["HOME1_PASS"])
            check("proxied login for %s (home1, default policy)" % env["HOME1_USER"],
                  line.startswith(b"b1 OK"), line)
        with ImapClient.connect(addr, port) as c:
            _, line = c.login("c1", env["LOCAL_USER"], env["LOCAL_PASS"])
            check("local login for %s" % env["LOCAL_USER"], line.startswith(b"c1 OK"), line)
            mailbox = env["SHARED_MAILBOX"]
            _, line = c.command("c2", "SELECT %s" % mailbox)
            want = rb"^c2 NO \[REFERRAL imap://[^\]]*@%s:%s/%s\] " % (
                re.escape(env["HOME2_ADDR"]).encode(), home_port.encode(),
                re.escape(mailbox).encode())
            check("mailbox referral for SELECT %s (home2)" % mailbox,
                  re.match(want, line) is not None, line)
            c.logout()
    except Exception as e:  # the front's log says why; print it
        problems.append("%s: %s" % (type(e).__name__, e))
    finally:
        left = front.stop()
        if left:
            problems.append("processes left after stopping the front: %s" % left)
    if problems:
        print("snippet front: %d problem(s); last lines of %s:\n%s"
              % (len(problems), front.log, lab_process.log_tail(front.log)))
        for p in problems:
            print("PROBLEM: " + p)
        return 1
    print("snippet front: login referral, proxy and mailbox referral as documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
