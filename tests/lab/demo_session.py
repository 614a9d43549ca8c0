#!/usr/bin/env python3
"""The narrated IMAP session of scripts/demo.sh, against a running lab.

    demo_session.py <labdir>/lab.env

Prints every command and response (C:/S:), with a line of explanation per
step, and checks each outcome: exit status 1 when a step did not behave as
the lab's directory says it should.  With plugins (LAB_PLUGINS=build or
installed) it shows a referral, a proxied session, a local session, a
mailbox referral, a wrong password and a hostile directory value, then a
POP3 login and an LMTP delivery through the front (POP3 and LMTP have no
referral: both go to the home server by proxy, docs/protocols.md); without
plugins it shows the plain servers only.
"""
import glob
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import lab  # noqa: E402
from imap_client import ImapClient, ImapError, quote  # noqa: E402

WIDTH = 110
failures = []


def show(prefix, line):
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    for part in text.split("\r\n"):
        if len(part) > WIDTH:
            part = part[:WIDTH - 3] + "..."
        print("   %s %s" % (prefix, part))


def step(title):
    print("\n== %s" % title)


def verdict(ok, what):
    print("   -> %s: %s" % ("as expected" if ok else "UNEXPECTED", what))
    if not ok:
        failures.append(what)


class Session:
    """A connection that prints everything it sends and receives."""

    def __init__(self, host, port):
        self.c = ImapClient.connect(host, port)
        print("   (connected to %s:%d)" % (host, port))
        show("S:", self.c.greeting)
        self.n = 0

    def cmd(self, text, shown=None):
        self.n += 1
        tag = "a%d" % self.n
        show("C:", "%s %s" % (tag, shown or text))
        untagged, tagged = self.c.command(tag, text)
        # SELECT's FLAGS/PERMANENTFLAGS/UIDVALIDITY... lines say nothing here.
        boring = [u for u in untagged
                  if u.startswith((b"* FLAGS", b"* OK [", b"* 0 RECENT", b"* 1 RECENT"))]
        for u in untagged:
            if u not in boring:
                show("S:", u)
        if boring:
            show("S:", "(%d more untagged lines)" % len(boring))
        show("S:", tagged)
        return untagged, tagged

    def login(self, user, password):
        return self.cmd(b"LOGIN " + quote(user) + b" " + quote(password),
                        "LOGIN %s %s" % (user, password))

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (ImapError, OSError):
            pass
        self.c.close()


def subject_of_first(s):
    untagged, tagged = s.cmd("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    return b"\n".join(untagged).decode("utf-8", "replace")


def plain_servers(env):
    for role, server in (("HOME1", "home1"), ("HOME2", "home2")):
        user = env[role + "_USER"]
        step("%s lives on %s: log in there directly" % (user, server))
        s = Session(env[role + "_ADDR"], int(env[role + "_PORT"]))
        _, tagged = s.login(user, env[role + "_PASS"])
        verdict(b" OK " in tagged, "%s is served by %s" % (user, server))
        s.cmd("SELECT INBOX")
        verdict("on %s" % server in subject_of_first(s), "INBOX holds %s's welcome message" % server)
        s.close()


def with_plugins(env):
    front = (env["FRONT_ADDR"], int(env["FRONT_PORT"]))
    direct = (env["FRONT_ADDR"], int(env["FRONT_DIRECT_PORT"]))

    user = env["REFER_USER"]
    step("%s (imapReferralPolicy=refer, home server home1 %s) logs in at the front"
         % (user, env["HOME1_ADDR"]))
    s = Session(*front)
    _, tagged = s.login(user, env["REFER_PASS"])
    verdict(b"NO [REFERRAL imap://" in tagged and env["HOME1_ADDR"].encode() in tagged,
            "login referral to home1 (RFC 2221), no local login")
    s.c.close()

    user = env["HOME1_USER"]
    step("%s (home1, default policy) logs in at the front's second listener, whose "
         "listener_rule says refer" % user)
    s = Session(*direct)
    _, tagged = s.login(user, env["HOME1_PASS"])
    verdict(b"NO [REFERRAL imap://" in tagged, "login referral on the refer listener")
    s.c.close()

    user = env["PROXY_USER"]
    step("%s (imapReferralPolicy=proxy, home server home2) logs in at the front: "
         "the front relays the session" % user)
    s = Session(*front)
    _, tagged = s.login(user, env["PROXY_PASS"])
    verdict(b" OK " in tagged, "login accepted")
    s.cmd("SELECT INBOX")
    verdict("on home2" in subject_of_first(s), "the INBOX read through the front is home2's")
    s.close()

    user = env["LOCAL_USER"]
    step("%s (home server = the front itself) logs in at the front: served here, never referred"
         % user)
    s = Session(*front)
    _, tagged = s.login(user, env["LOCAL_PASS"])
    verdict(b" OK " in tagged, "local login")
    s.cmd("SELECT INBOX")
    verdict("on front" in subject_of_first(s), "the INBOX is the front's own")
    step("%s selects the remote shared mailbox %s (it lives on home2)"
         % (user, env["SHARED_MAILBOX"]))
    _, tagged = s.cmd('SELECT "%s"' % env["SHARED_MAILBOX"])
    verdict(b"NO [REFERRAL imap://" in tagged and env["HOME2_ADDR"].encode() in tagged,
            "mailbox referral to home2 (RFC 2193)")
    step("%s lists with RLIST (remote and local mailboxes) and with LIST (local only)" % user)
    untagged, tagged = s.cmd('RLIST "" "*"')
    remote = env["SHARED_MAILBOX"].encode()
    verdict(any(line.endswith(b" " + remote) for line in untagged) and b" OK " in tagged,
            "RLIST shows the remote mailbox %s" % env["SHARED_MAILBOX"])
    untagged, tagged = s.cmd('LIST "" "*"')
    verdict(not any(line.endswith(b" " + remote) for line in untagged) and b" OK " in tagged,
            "LIST does not (RFC 2193 §3)")
    s.close()

    user = env["HOME1_USER"]
    step("%s logs in at the front with a wrong password" % user)
    s = Session(*front)
    _, tagged = s.login(user, "not-the-password")
    verdict(tagged.split(b" ")[1:2] == [b"NO"] and b"REFERRAL" not in tagged,
            "plain failure: no referral for a failed login (R2221-15)")
    s.c.close()

    user = env["BADHOST_USER"]
    step("%s has a hostile mailHost in the directory (CR LF, ']' and a fake tagged OK)" % user)
    s = Session(*front)
    _, tagged = s.login(user, env["BADHOST_PASS"])
    verdict(tagged.startswith(b"a1 NO ") and b"REFERRAL" not in tagged and b"evil" not in tagged,
            "a clean NO: the directory value never reaches the wire")
    s.c.close()


class LineSession:
    """A POP3 or LMTP connection that prints every line it sends and
    receives (both protocols: one command line, replies until the last)."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.f = self.sock.makefile("rb")
        print("   (connected to %s:%d)" % (host, port))
        show("S:", self.f.readline().rstrip(b"\r\n"))

    def cmd(self, line, shown=None, multiline=None):
        """Sends `line`; returns the reply lines.  multiline(first) says
        whether a dot-terminated body follows the first line (POP3 TOP)."""
        show("C:", shown or line)
        self.sock.sendall(line.encode() + b"\r\n")
        return self.read(multiline)

    def read(self, multiline=None):
        lines = [self.f.readline().rstrip(b"\r\n")]
        # SMTP/LMTP continuation: "250-..." until "250 ...".
        while len(lines[-1]) > 3 and lines[-1][3:4] == b"-":
            lines.append(self.f.readline().rstrip(b"\r\n"))
        if multiline and multiline(lines[0]):
            while lines[-1] != b".":
                lines.append(self.f.readline().rstrip(b"\r\n"))
        for ln in lines:
            show("S:", ln)
        return lines

    def close(self):
        self.sock.close()


def where_delivered(env, user, token):
    """The lab servers whose Maildir of `user` holds a message with token."""
    found = []
    for server in ("FRONT", "HOME1", "HOME2"):
        for path in glob.glob(os.path.join(env[server + "_MAIL"], user, "Maildir", "*", "*")):
            with open(path, "rb") as f:
                if token.encode() in f.read(4096):
                    found.append(server.lower())
    return found


def other_protocols(env):
    if "POP3_PORT" not in env:
        return
    front = env["FRONT_ADDR"]
    user, password = env["HOME1_USER"], env["HOME1_PASS"]
    step("%s (home server home1) reads mail with POP3 at the front: POP3 has no referral, "
         "so the front proxies the session to home1's POP3 port" % user)
    s = LineSession(front, int(env["POP3_PORT"]))
    s.cmd("USER %s" % user)
    reply = s.cmd("PASS %s" % password)
    verdict(reply[0].startswith(b"+OK"), "POP3 login through the front")
    top = s.cmd("TOP 1 0", multiline=lambda first: first.startswith(b"+OK"))
    verdict(any(b"INBOX on home1" in ln for ln in top), "the INBOX is the one on home1")
    s.cmd("QUIT")
    s.close()

    user = env["HOME2_USER"]
    token = "demo-%d" % int(time.time() * 1000)
    step("an MTA delivers a message for %s (home server home2) to the front's LMTP "
         "(lmtp_proxy = yes): the front passes it to home2's LMTP" % user)
    s = LineSession(front, int(env["LMTP_PORT"]))
    s.cmd("LHLO demo.example.test")
    s.cmd("MAIL FROM:<demo@example.test>")
    rcpt = s.cmd("RCPT TO:<%s>" % user)
    s.cmd("DATA")
    body = "Subject: %s\r\n\r\nHello %s, delivered through the front.\r\n." % (token, user)
    for ln in body.split("\r\n"):
        show("C:", ln)
    s.sock.sendall(body.encode() + b"\r\n")
    done = s.read()
    s.cmd("QUIT")
    s.close()
    places = []
    for _ in range(50):
        places = where_delivered(env, user, token)
        if places:
            break
        time.sleep(0.1)
    print("   (Maildirs holding the message: %s)" % (", ".join(places) or "none"))
    verdict(rcpt[0].startswith(b"250") and done[0].startswith(b"250") and places == ["home2"],
            "delivered into %s's Maildir on home2 and nowhere else" % user)


def main():
    env = lab.read_env(sys.argv[1])
    print("Lab: front %s:%s (refer listener :%s), home1 %s:%s, home2 %s:%s, LDAP %s, plugins: %s"
          % (env["FRONT_ADDR"], env["FRONT_PORT"], env["FRONT_DIRECT_PORT"], env["HOME1_ADDR"],
             env["HOME1_PORT"], env["HOME2_ADDR"], env["HOME2_PORT"], env["LDAP_URI"],
             env["LAB_PLUGINS"]))
    if env["LAB_PLUGINS"] == "none":
        print("(plugins not built yet: showing the plain lab servers)")
        plain_servers(env)
        user = env["LOCAL_USER"]
        step("%s is served by the front" % user)
        s = Session(env["FRONT_ADDR"], int(env["FRONT_PORT"]))
        _, tagged = s.login(user, env["LOCAL_PASS"])
        verdict(b" OK " in tagged, "local login")
        s.close()
    else:
        with_plugins(env)
        other_protocols(env)
    print()
    if failures:
        print("demo: %d step(s) did not behave as expected:\n  %s"
              % (len(failures), "\n  ".join(failures)))
        return 1
    print("demo: every step behaved as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
