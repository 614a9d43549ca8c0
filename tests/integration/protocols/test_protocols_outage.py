#!/usr/bin/env python3
"""Directory outage for POP3 and LMTP (issue 14 items 3, 5; ctest
RUN_SERIAL: stalls the lab's slapd and resumes it).  With slapd stopped
(SIGSTOP: a directory that no longer answers, the slower case) and the
front's auth process restarted (no answer to fall back on):
LMTP gets 451 4.3.0 for every recipient (remote and local alike: where a
user lives is unknown), POP3 gets -ERR [SYS/TEMP], and no message lands
anywhere; SASL authentication for Postfix (service smtp) still works at
once; once slapd answers again, mail goes home without a restart.
"""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protocols_support import ProtocolLab, unique  # noqa: E402
from dovecot_version import INTERNAL_FAILURE_DELAY_MAX  # noqa: E402
from dovecot_processes import restart_auth  # noqa: E402

# tests/lab/conf/dovecot-referral.conf.ext.in
LDAP_TIMEOUT = 2.0


class OutageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = ProtocolLab()

    def restart_front_auth(self):
        # A user with no usable answer: a new auth process has neither
        # Dovecot's auth cache nor the driver's directory answers, whose
        # last answer per user would carry a known user through the outage
        # however old (docs/login-referrals.md §1.3).
        restart_auth(self.lab.env["FRONT_CONF"], int(self.lab.env["FRONT_PID"]))

    def test_stalled_directory(self):
        roles = ("HOME1", "HOME2", "LOCAL")
        users = [self.lab.user(r)[0] for r in roles]
        pgid = int(self.lab.env["SLAPD_PID"])
        token = unique("lmtp-outage")
        self.restart_front_auth()
        os.killpg(pgid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            replies = self.lab.lmtp_send(users, token)
            for user in users:
                code, text = replies[user]
                self.assertEqual(code, 451, (user, replies))
                self.assertTrue(text.startswith(b"4.3.0"), text)
            # Each RCPT waits for ldap_timeout (+ 2.4's auth_internal_failure_delay).
            self.assertLess(time.monotonic() - t0,
                            len(users) * (LDAP_TIMEOUT + 1.0 + INTERNAL_FAILURE_DELAY_MAX) + 2)
            # A service with no session to route (Postfix's SASL, "smtp"):
            # authentication only, no directory search, so no wait either.
            user, pw = self.lab.user("HOME1")
            t1 = time.monotonic()
            sasl = subprocess.run(["doveadm", "-c", self.lab.env["FRONT_CONF"], "auth", "test",
                                   "-x", "service=smtp", user, pw], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=30)
            self.assertEqual(sasl.returncode, 0, sasl.stdout)
            self.assertIn(b"auth succeeded", sasl.stdout)
            self.assertNotIn(b"proxy", sasl.stdout)
            self.assertLess(time.monotonic() - t1, LDAP_TIMEOUT)
            p = self.lab.pop3()
            try:
                p.user(user)
                with self.assertRaises(Exception) as cm:
                    p.pass_(pw)
                self.assertIn("-ERR [SYS/TEMP]", str(cm.exception))
            finally:
                p.close()
        finally:
            os.killpg(pgid, signal.SIGCONT)
        for user in users:
            self.assertEqual(self.lab.where(user, token, timeout=1.0), set(), user)

        # Back: without restarting anything, mail goes home again.
        user, _ = self.lab.user("HOME1")
        deadline = time.monotonic() + 20
        while True:
            back = unique("lmtp-back")
            code = self.lab.lmtp_send([user], back)[user][0]
            if code == 250 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(code, 250, "LMTP did not recover after slapd came back")
        self.assertEqual(self.lab.where(user, back, expect={"HOME1"}), {"HOME1"})
        self.assertEqual(self.lab.where(user, token, timeout=0.5), set())


if __name__ == "__main__":
    unittest.main(verbosity=2)
