#!/usr/bin/env python3
"""POP3 through the front (issue 14 items 1, 2, 5): POP3 has no referral,
so every policy but local reaches the user's INBOX on the home server by
Dovecot's proxy, on home_pop3_port; a home that is the front is served
there (R2221-3/D-11); no usable home is a clean -ERR (D-17); a wrong
password is the plain failure and never reaches the directory (R2221-15).
Real clients: Python poplib (USER/PASS, AUTH PLAIN) and curl pop3://.
"""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protocols_support import REJECT_TEXT, ProtocolLab  # noqa: E402


def inbox_owner(p):
    """Which server's INBOX the session reads: the lab's welcome message
    (message 1) says "Welcome to <user>'s INBOX on <server>"."""
    _, lines, _ = p.top(1, 0)
    subject = [ln for ln in lines if ln.startswith(b"Subject: ")]
    m = re.match(rb"Subject: Welcome to (\S+)'s INBOX on (\w+)", subject[0] if subject else b"")
    return (m.group(1).decode(), m.group(2).decode().upper()) if m else None


class Pop3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = ProtocolLab()

    def read_inbox(self, login, user, password, port=None):
        p, reply = login(user, password, port)
        try:
            self.assertTrue(reply.startswith(b"+OK"), reply)
            return inbox_owner(p)
        finally:
            p.quit()

    def test_user_pass_reads_the_home_servers_inbox(self):
        for role, home in (("HOME1", "HOME1"), ("HOME2", "HOME2")):
            user, pw = self.lab.user(role)
            offset = self.lab.log_size()
            self.assertEqual(self.read_inbox(self.lab.pop3_user_pass, user, pw), (user, home))
            # Issue 14 item 2: the home's POP3 port, not its IMAP port.
            self.lab.wait_log(offset, r"pop3-login: Info: proxy\(%s,%s:%d\): Started proxying"
                              % (user, re.escape(self.lab.addr[home]), self.lab.pop3_port))

    def test_auth_plain_reads_the_home_servers_inbox(self):
        user, pw = self.lab.user("HOME1")
        self.assertEqual(self.read_inbox(self.lab.pop3_auth_plain, user, pw), (user, "HOME1"))

    def test_curl_pop3_url_reads_the_home_servers_inbox(self):
        user, pw = self.lab.user("HOME2")
        for options in ("AUTH=PLAIN", "AUTH=*"):
            out = subprocess.run(
                ["curl", "-sS", "--max-time", "30", "--login-options", options, "--user",
                 "%s:%s" % (user, pw), "pop3://%s:%d/1" % (self.lab.front, self.lab.pop3_port)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(b"Subject: Welcome to %s's INBOX on home2" % user.encode(), out.stdout)

    def test_local_user_reads_the_fronts_inbox_R2221_3(self):
        user, pw = self.lab.user("LOCAL")
        self.assertEqual(self.read_inbox(self.lab.pop3_user_pass, user, pw), (user, "FRONT"))

    # Issue 14 item 1: refer, suggest and proxy are the proxy for POP3;
    # local is local.  Listener policies (listener_rule) and user policies
    # (imapReferralPolicy; it wins over the listener's).
    def test_every_policy(self):
        alice, apw = self.lab.user("HOME1")
        for policy, where in (("refer", "HOME1"), ("suggest", "HOME1"), (None, "HOME1"),
                              ("proxy-suggest", "HOME1"), ("local", "FRONT")):
            port = self.lab.listener_port("pop3", policy)
            self.assertEqual(self.read_inbox(self.lab.pop3_user_pass, alice, apw, port),
                             (alice, where), policy)
        for role, home in (("REFER", "HOME1"), ("PROXY", "HOME2")):
            user, pw = self.lab.user(role)
            port = self.lab.listener_port("pop3", "local")
            self.assertEqual(self.read_inbox(self.lab.pop3_user_pass, user, pw, port), (user, home))

    # D-17 and allowed_hosts (REQUIREMENTS §2.6): no usable home server is
    # a clean refusal, never the front's mailbox, never a proxy.
    def test_no_usable_home_is_refused(self):
        for role in ("NOHOME", "ROGUE"):
            user, pw = self.lab.user(role)
            p = self.lab.pop3()
            try:
                p.user(user)
                with self.assertRaises(Exception) as cm:
                    p.pass_(pw)
                self.assertIn(REJECT_TEXT, str(cm.exception).encode(), role)
                self.assertTrue(str(cm.exception).startswith("b'-ERR"), cm.exception)
            finally:
                p.close()

    # R2221-15: a wrong password never reaches the referral passdb.
    def test_wrong_password_is_the_plain_failure_R2221_15(self):
        user, _ = self.lab.user("HOME1")
        offset = self.lab.log_size()
        p = self.lab.pop3()
        try:
            p.user(user)
            with self.assertRaises(Exception) as cm:
                p.pass_("wrong")
            self.assertIn("-ERR [AUTH] Authentication failed.", str(cm.exception))
        finally:
            p.close()
        log = self.lab.settled_log_since(offset)
        self.assertNotIn("referral(%s" % user, log)
        self.assertNotIn("proxy(%s" % user, log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
