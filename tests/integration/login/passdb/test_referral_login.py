#!/usr/bin/env python3
"""Login referrals through passdb referral, against the shared lab (issue 3).

Front (lab): default listener = default_policy proxy; direct listener =
listener_rule refer; client_id_rule refer dref-referral-aware*.  Every
assertion is on the exact bytes the client receives.
"""
import imaplib
import os
import re
import socket
import threading
import time
import unittest

from referral_support import (AUTH_FAILED, REJECT, Lab, assert_local_login,
                              fresh_source, login, send_id)
from dovecot_version import (auth_log_prefix, login_end_log, login_end_prefix,
                             login_ok_log, passdb_log)


class SourcedIMAP4(imaplib.IMAP4):
    """imaplib from a chosen loopback source address."""

    def __init__(self, host, port, source):
        self._source = source
        super().__init__(host, port, timeout=20)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source, 0))


class LoginReferralTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()

    def referral(self, tag, role):
        user, _ = self.lab.user(role)
        home = self.lab.home1 if role in ("HOME1", "REFER") else self.lab.home2
        return self.lab.referral(tag, user, home, self.lab.home_port)

    def assert_nothing_more(self, c):
        """Exactly one tagged completion: the next command's answer is the
        next thing on the wire."""
        untagged, tagged = c.command("n1", "NOOP")
        self.assertEqual(untagged, [])
        self.assertTrue(tagged.startswith(b"n1 OK"), tagged)

    # R2221-1
    def test_capability_lists_login_referrals_before_and_after_login_R2221_1(self):
        user, pw = self.lab.user("LOCAL")
        for port in (self.lab.port, self.lab.direct):
            c = self.lab.connect(port)
            try:
                self.assertIn(b" LOGIN-REFERRALS ", c.greeting)
                untagged, tagged = c.command("c1", "CAPABILITY")
                self.assertTrue(tagged.startswith(b"c1 OK"), tagged)
                self.assertEqual(len(untagged), 1)
                self.assertIn(b" LOGIN-REFERRALS ", untagged[0] + b" ")
                _, tagged, _ = login(c, "l1", user, pw)
                assert_local_login(tagged, "l1")
                untagged, tagged = c.command("c2", "CAPABILITY")
                self.assertTrue(tagged.startswith(b"c2 OK"), tagged)
                self.assertIn(b" LOGIN-REFERRALS ", untagged[0] + b" ")
            finally:
                c.close()
            # Without a CAPABILITY before LOGIN, the tagged OK carries the
            # post-login capabilities.
            c = self.lab.connect(port)
            try:
                _, tagged, _ = login(c, "l2", user, pw)
                self.assertTrue(tagged.startswith(b"l2 OK [CAPABILITY "), tagged)
                self.assertIn(b" LOGIN-REFERRALS ", tagged)
            finally:
                c.close()

    # R2221-12, R2221-5, R2221-14, D-3: LOGIN on the referring listener.
    def test_referral_after_correct_password_LOGIN_R2221_12(self):
        user, pw = self.lab.user("HOME1")
        c = self.lab.connect(self.lab.direct)
        try:
            untagged, tagged, _ = login(c, "a1", user, pw)
            self.assertEqual(untagged, [])
            self.assertEqual(tagged, self.referral("a1", "HOME1"))
            self.assert_nothing_more(c)
            # R2221-9: still not authenticated.
            _, tagged = c.command("s1", "SELECT INBOX")
            self.assertTrue(tagged.startswith(b"s1 BAD") or tagged.startswith(b"s1 NO"), tagged)
        finally:
            c.close()

    # R2221-8, R2221-12, D-3: AUTHENTICATE PLAIN with and without SASL-IR.
    def test_referral_AUTHENTICATE_PLAIN_with_and_without_sasl_ir_R2221_8(self):
        user, pw = self.lab.user("HOME1")
        for sasl_ir in (True, False):
            c = self.lab.connect(self.lab.direct)
            try:
                untagged, tagged = c.authenticate_plain("p1", user, pw, sasl_ir=sasl_ir)
                self.assertEqual([u for u in untagged if not u.startswith(b"+")], [])
                self.assertEqual(tagged, self.referral("p1", "HOME1"), "sasl_ir=%s" % sasl_ir)
                self.assert_nothing_more(c)
            finally:
                c.close()

    # R2221-15: wrong password and unknown user are byte-identical failures,
    # on both listeners, for LOGIN and AUTHENTICATE PLAIN (IR or not), and
    # the referral passdb is never reached for them.
    def test_failures_identical_and_never_referred_R2221_15(self):
        alice, _ = self.lab.user("HOME1")
        rita, _ = self.lab.user("REFER")
        cases = []
        for port in (self.lab.direct, self.lab.port):
            for mode in ("login", "ir", "noir"):
                for user, pw in ((alice, "wrong-password"), (rita, "pw-alice"),
                                 ("no-such-user", "pw-alice")):
                    cases.append((port, mode, user, pw, fresh_source()))
        results = {}
        offset = self.lab.log_size()

        def run(case):
            port, mode, user, pw, source = case
            c = self.lab.connect(port, source=source, timeout=30)
            try:
                if mode == "login":
                    untagged, tagged = c.login("f1", user, pw)
                else:
                    untagged, tagged = c.authenticate_plain("f1", user, pw, sasl_ir=(mode == "ir"))
                results[case] = (untagged, tagged)
            finally:
                c.close()

        threads = [threading.Thread(target=run, args=(case,)) for case in cases]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(results), len(cases))
        for case, (untagged, tagged) in results.items():
            self.assertEqual(tagged, b"f1 " + AUTH_FAILED, case)
            self.assertFalse([u for u in untagged if b"REFERRAL" in u or b"imap://" in u], case)
        text = self.lab.settled_log_since(offset)
        for case in cases:
            source = case[4]
            self.assertNotRegex(text, passdb_log("referral", rip=re.escape(source)),
                                "passdb referral ran for a failed login %r" % (case,))

    # R2221-3, D-11: a user whose home is the front logs in here, on every listener.
    def test_home_is_this_server_logs_in_locally_R2221_3_D11(self):
        user, pw = self.lab.user("LOCAL")
        for port in (self.lab.direct, self.lab.port):
            c = self.lab.connect(port)
            try:
                untagged, tagged, _ = login(c, "l1", user, pw)
                assert_local_login(tagged, "l1")
                self.assertFalse([u for u in untagged if b"REFERRAL" in u])
                _, tagged = c.command("s1", "SELECT INBOX")
                self.assertTrue(tagged.startswith(b"s1 OK"), tagged)
            finally:
                c.close()

    # D-17: no, malformed or hostile home -> clean NO, no URL, the log says why.
    def test_unusable_home_never_produces_a_url_D17(self):
        offset = self.lab.log_size()
        for role in ("BADHOST", "NOHOME"):
            user, pw = self.lab.user(role)
            for port in (self.lab.direct, self.lab.port):
                c = self.lab.connect(port)
                try:
                    untagged, tagged, _ = login(c, "r1", user, pw)
                    self.assertEqual(tagged, b"r1 " + REJECT, (role, port))
                    self.assertEqual(untagged, [])
                    self.assert_nothing_more(c)
                finally:
                    c.close()
        mallory, _ = self.lab.user("BADHOST")
        nancy, _ = self.lab.user("NOHOME")
        text = self.lab.wait_log(offset, passdb_log("referral", nancy) + r"[^\n]*decision reject")
        self.assertRegex(text, passdb_log("referral", mallory) + r"[^\n]*decision reject")
        # The hostile value never reaches the log raw (CR/LF would forge lines).
        self.assertNotIn("\r", text)
        self.assertNotRegex(text, r"(?m)^a1 OK \[REFERRAL")

    # R2221-16 (log every referral issued: user, command, target URL): one
    # info line per referred connection, as with Dovecot's native referrals:
    # Dovecot's own end line, which the login plugin completes with each
    # referral's target, command and user; the passdb driver's decision line
    # is debug (docs/login-referrals.md §4).
    def test_one_info_line_per_referral_R2221_16(self):
        bob, pw = self.lab.user("HOME2")
        offset = self.lab.log_size()
        c = self.lab.connect(self.lab.direct)
        try:
            for tag in ("g1", "g2"):
                _, tagged, _ = login(c, tag, bob, pw)
                self.assertEqual(tagged, self.referral(tag, "HOME2"))
        finally:
            c.close()
        text = self.lab.wait_log(offset, login_end_log(bob))
        note = (r"; referral imap://%s;AUTH=\*@%s:%s/ \(LOGIN\)"
                % (bob, re.escape(self.lab.home2), self.lab.home_port))
        session = re.search(r"(^|\s)imap-login(\(|:)[^\n]*%s[^\n]*(%s){2}: [^\n]*user=<%s>[^\n]*"
                            r"session=<([^>]+)>" % (re.escape(login_end_prefix()), note, bob), text)
        self.assertIsNotNone(session, text[-3000:])
        lines = [l for l in text.splitlines() if "<%s>" % session.group(4) in l]
        info = [l for l in lines if " Info: " in l]
        self.assertEqual(len(info), 1, "\n".join(lines))
        self.assertFalse([l for l in lines if "decision refer" in l], "\n".join(lines))

    # Policy precedence: the user's directory policy beats the listener rule.
    def test_user_policy_precedes_listener_policy(self):
        rita, rpw = self.lab.user("REFER")
        c = self.lab.connect(self.lab.port)
        try:
            _, tagged, _ = login(c, "u1", rita, rpw)
            self.assertEqual(tagged, self.referral("u1", "REFER"))
        finally:
            c.close()
        percy, ppw = self.lab.user("PROXY")
        offset = self.lab.log_size("HOME2_LOG")
        c = self.lab.connect(self.lab.direct)
        try:
            _, tagged, _ = login(c, "u2", percy, ppw)
            assert_local_login(tagged, "u2")  # the home server's own OK, relayed
        finally:
            c.close()
        self.lab.wait_log(offset, login_ok_log(percy), "HOME2_LOG")

    # Per client-ID policy: ID "name" matching client_id_rule -> refer, even
    # on the proxying listener; another client is proxied.
    def test_client_id_policy(self):
        alice, pw = self.lab.user("HOME1")
        c = self.lab.connect(self.lab.port)
        try:
            send_id(c, "i1", "dref-referral-aware/2.0")
            _, tagged, _ = login(c, "i2", alice, pw)
            self.assertEqual(tagged, self.referral("i2", "HOME1"))
        finally:
            c.close()
        offset = self.lab.log_size("HOME1_LOG")
        c = self.lab.connect(self.lab.port)
        try:
            send_id(c, "i1", "Thunderbird")
            _, tagged, _ = login(c, "i2", alice, pw)
            assert_local_login(tagged, "i2")
        finally:
            c.close()
        self.lab.wait_log(offset, login_ok_log(alice), "HOME1_LOG")

    # Issue 3: a proxy-path client (imaplib) reads its INBOX on its home
    # server through the front; a referral-path client gets the referral.
    def test_proxy_path_reads_home_inbox_and_referral_path_refers(self):
        bob, pw = self.lab.user("HOME2")
        offset = self.lab.log_size("HOME2_LOG")
        m = SourcedIMAP4(self.lab.front, self.lab.port, fresh_source())
        try:
            typ, _ = m.login(bob, pw)
            self.assertEqual(typ, "OK")
            typ, data = m.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK")
            self.assertGreaterEqual(int(data[0]), 1)
            typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(typ, "OK")
            self.assertIn(b"Welcome to bob's INBOX on home2", data[0][1])
            m.logout()
        finally:
            try:
                m.shutdown()
            except OSError:
                pass
        self.lab.wait_log(offset, login_ok_log(bob), "HOME2_LOG")
        c = self.lab.connect(self.lab.direct)
        try:
            _, tagged, _ = login(c, "x1", bob, pw)
            self.assertEqual(tagged, self.referral("x1", "HOME2"))
        finally:
            c.close()

    # D-14: a referral is not an authentication failure: three in a row on
    # one connection, each answered at once and identically.  Three wrong
    # passwords show the delay this measurement would catch.
    def test_referrals_get_no_failure_delay_or_penalty_D14(self):
        rita, pw = self.lab.user("REFER")
        c = self.lab.connect(self.lab.direct)
        try:
            for i in range(3):
                tag = "d%d" % i
                _, tagged, secs = login(c, tag, rita, pw)
                self.assertEqual(tagged, self.referral(tag, "REFER"))
                self.assertLess(secs, 0.7, "referral %d took %.2fs" % (i, secs))
        finally:
            c.close()
        c = self.lab.connect(self.lab.direct, timeout=40)
        try:
            for i in range(2):
                _, tagged, secs = login(c, "w%d" % i, rita, "wrong")
                self.assertEqual(tagged, b"w%d " % i + AUTH_FAILED)
                self.assertGreater(secs, 1.0, "a failed login was not delayed: %.2fs" % secs)
        finally:
            c.close()

    # A warm login (the answer in the driver's directory cache) refers as
    # the first one did; another listener with the same client gets its own
    # answer.  Dovecot's auth cache does not hold the referral passdb's
    # answer (no cache key, issue 13): the driver decides every login from
    # its own listener, TLS and client ID, and Dovecot writes no "Cached NULL
    # password access" line for it.
    def test_warm_login_still_refers(self):
        alice, pw = self.lab.user("HOME1")
        probe = "dref-cache-probe-%d-%d" % (os.getpid(), int(time.time()))
        offset = self.lab.log_size()
        for tag in ("k1", "k2"):
            c = self.lab.connect(self.lab.direct)
            try:
                send_id(c, "i0", probe)
                _, tagged, _ = login(c, tag, alice, pw)
                self.assertEqual(tagged, self.referral(tag, "HOME1"))
            finally:
                c.close()
        self.lab.wait_log(offset, r"(?s)(; referral imap://%s;.*){2}" % alice)
        text = self.lab.settled_log_since(offset)
        sessions = re.findall(r"; referral imap://%s;[^\n]*session=<([^>]+)>" % alice, text)
        self.assertEqual(len(sessions), 2, text[-3000:])
        self.assertNotRegex(text, auth_log_prefix("referral", alice) +
                            r"Cached NULL password access")
        c = self.lab.connect(self.lab.port)
        try:
            send_id(c, "i0", probe)
            _, tagged, _ = login(c, "k3", alice, pw)
            assert_local_login(tagged, "k3")  # proxied: this listener's policy
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
