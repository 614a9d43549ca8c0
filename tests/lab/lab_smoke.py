#!/usr/bin/env python3
"""Smoke test of the loopback lab itself (no plugins): start a private lab,
log every home user in to THEIR home server and the local user in to the
front with Python's imaplib, stop the lab, and check that no slapd or Dovecot
process of it is left.  Exit status 0 only when every check held.

    lab_smoke.py --dir DIR [--addr-base N]
"""
import argparse
import imaplib
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import lab  # noqa: E402
import lab_process  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok   %s" % what)


def imap_session(host, port, user, password, expect_subject):
    """LOGIN, SELECT INBOX, read the welcome message's subject, LOGOUT."""
    m = imaplib.IMAP4(host, port, timeout=10)
    try:
        typ, _ = m.login(user, password)
        check(typ == "OK", "%s logs in at %s:%d" % (user, host, port))
        typ, data = m.select("INBOX")
        check(typ == "OK" and int(data[0]) >= 1, "%s: SELECT INBOX has mail (%s)" % (user, data[0]))
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subject = data[0][1].decode("utf-8", "replace").strip()
        check(expect_subject in subject, "%s: message says %r" % (user, subject))
    finally:
        try:
            m.logout()
        except Exception:
            pass


def refused(host, port, user, password):
    m = imaplib.IMAP4(host, port, timeout=10)
    try:
        m.login(user, password)
        return False
    except imaplib.IMAP4.error:
        return True
    finally:
        try:
            m.shutdown()
        except Exception:
            pass


def raw_client_checks(env):
    """tests/support/imap_client.py against a plain home server: SASL-IR
    and continuation AUTHENTICATE PLAIN, synchronising and LITERAL+
    literals, a literal in a response, and read timeouts."""
    from imap_client import ImapClient, ImapTimeout, Literal
    host, port = env["HOME2_ADDR"], int(env["HOME2_PORT"])
    user, password = env["HOME2_USER"], env["HOME2_PASS"]
    with ImapClient.connect(host, port, timeout=10) as c:
        check(c.greeting.startswith(b"* OK "), "raw client reads the greeting")
        _, tagged = c.authenticate_plain("r1", user, "wrong", sasl_ir=True)
        check(tagged.startswith(b"r1 NO [AUTHENTICATIONFAILED]"), "AUTHENTICATE PLAIN (SASL-IR), "
              "wrong password: %r" % tagged)
        _, tagged = c.authenticate_plain("r2", user, password, sasl_ir=False)
        check(tagged.startswith(b"r2 OK "), "AUTHENTICATE PLAIN after '+': %r" % tagged[:40])
        msg = b"Subject: raw\r\n\r\nline one\r\n"
        _, tagged = c.command("r3", ["APPEND INBOX () ", Literal(msg)])
        check(tagged.startswith(b"r3 OK [APPENDUID "), "APPEND, synchronising literal: %r" % tagged)
        _, tagged = c.command("r4", ["APPEND INBOX ", Literal(msg, plus=True)])
        check(tagged.startswith(b"r4 OK [APPENDUID "), "APPEND, LITERAL+: %r" % tagged)
        c.command("r5", "SELECT INBOX")
        untagged, tagged = c.command("r6", "FETCH 2 BODY.PEEK[TEXT]")
        check(untagged == [b"* 2 FETCH (BODY[TEXT] {10}\r\nline one\r\n)"],
              "literal in a response kept byte for byte: %r" % untagged)
        try:
            c.read_line(timeout=0.3)
            check(False, "a silent server times out")
        except ImapTimeout:
            check(True, "a silent server raises ImapTimeout")
    with ImapClient.connect(host, port, timeout=10) as c:
        _, tagged = c.authenticate_plain("s1", user, password, sasl_ir=True)
        check(tagged.startswith(b"s1 OK "), "AUTHENTICATE PLAIN with SASL-IR")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--addr-base", type=int, default=6)
    args = ap.parse_args()
    lb = lab.Lab(args.dir, args.addr_base, "none")
    pids = []
    try:
        t0 = time.monotonic()
        lb.start()
        env = lab.read_env(lb.write_env())
        print("lab started in %.2fs" % (time.monotonic() - t0))
        pids = [int(env[k]) for k in ("SLAPD_PID", "FRONT_PID", "HOME1_PID", "HOME2_PID")]
        check(all(lab_process.alive(p) for p in pids), "all four daemons are running")
        # Each home user at THEIR home server (LOGIN, SELECT INBOX, LOGOUT).
        imap_session(env["HOME1_ADDR"], int(env["HOME1_PORT"]), env["HOME1_USER"],
                     env["HOME1_PASS"], "on home1")
        imap_session(env["HOME2_ADDR"], int(env["HOME2_PORT"]), env["HOME2_USER"],
                     env["HOME2_PASS"], "on home2")
        # The front serves its local user from its own Maildir.
        imap_session(env["FRONT_ADDR"], int(env["FRONT_PORT"]), env["LOCAL_USER"],
                     env["LOCAL_PASS"], "on front")
        check(refused(env["FRONT_ADDR"], int(env["FRONT_PORT"]), env["LOCAL_USER"], "wrong"),
              "a wrong password is refused")
        # The remote shared mailbox exists on home2 under the directory's name.
        m = imaplib.IMAP4(env["HOME2_ADDR"], int(env["HOME2_PORT"]), timeout=10)
        m.login(env["HOME2_USER"], env["HOME2_PASS"])
        typ, data = m.select('"%s"' % env["SHARED_MAILBOX"])
        check(typ == "OK" and int(data[0]) == 1, "home2 has %s with one message" % env["SHARED_MAILBOX"])
        m.logout()
        raw_client_checks(env)
    finally:
        t0 = time.monotonic()
        lb.stop()
        print("lab stopped in %.2fs" % (time.monotonic() - t0))
    check(pids and not any(lab_process.alive(p) for p in pids), "no daemon pid is alive after stop")
    labdir = os.path.abspath(args.dir) + "/"
    left = lab_process.processes_mentioning(labdir)
    check(not left, "no slapd/dovecot process names the lab dir (%s)" % left)
    p = subprocess.run(["pgrep", "-af", labdir], stdout=subprocess.PIPE, universal_newlines=True)
    check(p.returncode == 1, "pgrep -af %s finds nothing (%r)" % (labdir, p.stdout.strip()))
    check(not os.path.exists(os.path.join(args.dir, "lab.json")), "lab state removed")
    print("lab smoke test passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (AssertionError, lab.LabError, imaplib.IMAP4.error, OSError) as e:
        print("FAIL %s" % e, file=sys.stderr)
        sys.exit(1)
