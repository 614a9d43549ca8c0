"""Shared helpers of the POP3 and LMTP tests (issue 14; not a test).

- ProtocolLab: the ctest lab fixture's environment (lab.env) with the
  front's POP3/LMTP listeners (main one: default_policy proxy; one per
  policy: FRONT_<PROTO>_<POLICY>_PORT, listener_rule <policy>).
- where(): which lab server's Maildir holds a message, by a token in its
  subject, so a test sees "there and nowhere else".
"""
import base64
import glob
import os
import poplib
import smtplib
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration", "login"))

# The login tests' lab wrapper (lab.env, user(), logs) and source addresses.
from referral_support import Lab, fresh_source  # noqa: E402

SERVERS = ("FRONT", "HOME1", "HOME2")
# plugin/core/passdb_answer/passdb_reply.cpp kRejectText (D-17), as pop3-login words it.
REJECT_TEXT = b"Your mailbox cannot be reached from this server."


def unique(prefix):
    return "%s-%d-%d" % (prefix, os.getpid(), int(time.monotonic() * 1000000))


class SourcePOP3(poplib.POP3):
    """poplib's client from a chosen source address (Dovecot's auth penalty
    is per client IP: each session gets a fresh one)."""

    def __init__(self, host, port, source, timeout):
        self._source = source
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source, 0))


class ProtocolLab(Lab):
    def __init__(self):
        super().__init__()
        e = self.env
        self.pop3_port = int(e["POP3_PORT"])
        self.lmtp_port = int(e["LMTP_PORT"])
        self.addr = {s: e[s + "_ADDR"] for s in SERVERS}

    def listener_port(self, proto, policy=None):
        """The front's port for proto ("pop3", "lmtp"): the main listener
        (default policy proxy) or the one of listener_rule <policy>."""
        if policy is None:
            return self.pop3_port if proto == "pop3" else self.lmtp_port
        key = "FRONT_%s_%s_PORT" % (proto, policy.replace("-", "_"))
        return int(self.env[key.upper()])

    # ---------------------------------------------------------------- POP3
    def pop3(self, port=None, timeout=20):
        return SourcePOP3(self.front, port or self.pop3_port, fresh_source(), timeout)

    def pop3_user_pass(self, user, password, port=None):
        """(POP3 session logged in with USER/PASS, PASS reply)."""
        p = self.pop3(port)
        p.user(user)
        return p, p.pass_(password)

    def pop3_auth_plain(self, user, password, port=None):
        """(session, reply) of AUTH PLAIN with an initial response (RFC 5034)."""
        p = self.pop3(port)
        ir = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        return p, p._shortcmd("AUTH PLAIN " + ir)

    # ---------------------------------------------------------------- LMTP
    def lmtp_send(self, recipients, token, port=None):
        """One LMTP transaction to the front for every recipient; returns
        {recipient: (code, text)} of the per-recipient replies (RCPT
        refused or data reply) and the Message-ID used."""
        msg_id = "<%s@dref-lab.test>" % token
        body = ("From: sender@example.test\r\nTo: lab@example.test\r\nSubject: %s\r\n"
                "Message-ID: %s\r\n\r\nissue 14 LMTP test %s\r\n" % (token, msg_id, token))
        l = smtplib.LMTP(self.front, port or self.lmtp_port, timeout=30)
        try:
            l.ehlo("dref-test")
            code, _ = l.mail("sender@example.test")
            assert code == 250, code
            replies, accepted = {}, []
            for rcpt in recipients:
                code, text = l.rcpt(rcpt)
                replies[rcpt] = (code, text)
                if code == 250:
                    accepted.append(rcpt)
            if accepted:
                l.putcmd("data")
                code, text = l.getreply()
                assert code == 354, (code, text)
                l.send(body.encode() + b".\r\n")
                # LMTP (RFC 2033 §4.2): one reply per accepted recipient.
                for rcpt in accepted:
                    replies[rcpt] = l.getreply()
            else:
                l.rset()
            l.quit()
        finally:
            l.close()
        return replies

    # ---------------------------------------------------------------- Maildirs
    def where(self, user, token, timeout=5.0, expect=None):
        """The set of servers ("FRONT", "HOME1", "HOME2") whose Maildir of
        `user` holds a message with `token`; waits up to timeout for
        `expect` (a set) when given."""
        deadline = time.monotonic() + timeout
        while True:
            found = set()
            for s in SERVERS:
                for f in glob.glob(os.path.join(self.env[s + "_MAIL"], user, "Maildir",
                                                "*", "*")):
                    try:
                        with open(f, "rb") as fh:
                            if token.encode() in fh.read(4096):
                                found.add(s)
                    except OSError:
                        pass
            if expect is None or found == expect or time.monotonic() > deadline:
                return found
            time.sleep(0.1)
