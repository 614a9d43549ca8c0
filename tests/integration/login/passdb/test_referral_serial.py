#!/usr/bin/env python3
"""Login referral tests that disturb the shared lab and put it back
(ctest RUN_SERIAL): a stalled directory (users with no usable answer get a
temporary failure; a user whose last answer is older than cache_ttl is
still referred from it), and directory entries changed while Dovecot runs.
"""
import os
import re
import signal
import subprocess
import time
import unittest

from referral_support import AUTH_FAILED, Lab, assert_local_login, login, send_id
from dovecot_version import INTERNAL_FAILURE_DELAY_MAX, passdb_log
from dovecot_processes import restart_auth

# tests/lab/conf/dovecot-referral.conf.ext.in
LDAP_TIMEOUT = 2.0
DIRECTORY_CACHE_TTL = 2.0


def unique(prefix):
    return "%s-%d-%d" % (prefix, os.getpid(), int(time.monotonic() * 1000))


class SerialReferralTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()

    def ldap(self, tool, ldif):
        e = self.lab.env
        p = subprocess.run([tool, "-x", "-H", e["LDAP_URI"], "-D", e["LDAP_ADMIN_DN"],
                            "-w", e["LDAP_ADMIN_PW"]], input=ldif.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def refer_line(self, tag, user, pw, port, client_id):
        c = self.lab.connect(port)
        try:
            send_id(c, "i0", client_id)
            return login(c, tag, user, pw)
        finally:
            c.close()

    def restart_front_auth(self):
        """A new auth process on the front: no answer of any user in the
        driver's directory cache, not even an expired one."""
        restart_auth(self.lab.env["FRONT_CONF"], int(self.lab.env["FRONT_PID"]))

    # Issue 3 "done when": slapd stopped -> NO [UNAVAILABLE] within
    # ldap_timeout + 1 s for users with no answer to fall back on, nothing
    # crashes; slapd back -> referrals resume without restarting Dovecot.
    # A wrong password during the outage is still the plain failure
    # (R2221-15).  alice would be referred; a user who would be served
    # locally gets the same NO [UNAVAILABLE] (carol, e4 of the next test).
    def test_stalled_directory_tempfails_then_recovers(self):
        alice, pw = self.lab.user("HOME1")
        pgid = int(self.lab.env["SLAPD_PID"])
        offset = self.lab.log_size()
        front_pid = int(self.lab.env["FRONT_PID"])
        # Nothing of alice in the directory cache: her last answer would
        # carry her through the outage (the next test).
        self.restart_front_auth()
        os.killpg(pgid, signal.SIGSTOP)
        try:
            _, tagged, secs = self.refer_line("o1", alice, pw, self.lab.direct,
                                              unique("dref-outage"))
            self.assertTrue(tagged.startswith(b"o1 NO [UNAVAILABLE] "), tagged)
            self.assertNotIn(b"REFERRAL", tagged)
            # (+ 2.4's auth_internal_failure_delay, added by Dovecot after our answer)
            self.assertLess(secs, LDAP_TIMEOUT + 1.0 + INTERNAL_FAILURE_DELAY_MAX, "%.2fs" % secs)
            _, tagged, _ = self.refer_line("o2", alice, "wrong", self.lab.direct, unique("dref-o"))
            self.assertEqual(tagged, b"o2 " + AUTH_FAILED)
        finally:
            os.killpg(pgid, signal.SIGCONT)
        deadline = time.monotonic() + 20
        expected = None
        while time.monotonic() < deadline:
            _, tagged, _ = self.refer_line("o3", alice, pw, self.lab.direct, unique("dref-back"))
            expected = self.lab.referral("o3", alice, self.lab.home1, self.lab.home_port)
            if tagged == expected:
                break
            time.sleep(0.5)
        self.assertEqual(tagged, expected, "referrals did not resume after slapd came back")
        text = self.lab.log_since(offset)
        self.assertNotIn("killed with signal", text)
        self.assertNotRegex(text, r"(auth|imap-login): (Fatal|Panic)")
        os.kill(front_pid, 0)  # the same Dovecot master is still running

    # The directory down, as Dovecot's auth cache behaves: a user whose last
    # answer is older than cache_ttl is still referred from it, after
    # ldap_timeout (the directory is asked first), with a warning that says
    # how old the answer is; the referral is logged as every other
    # (R2221-16).  A wrong password is still the plain failure, never a
    # referral (R2221-15); a user with no answer in this auth process gets
    # NO [UNAVAILABLE].
    def test_expired_answer_refers_a_known_user_while_the_directory_is_down_R2221_15(self):
        alice, pw = self.lab.user("HOME1")
        carol, cpw = self.lab.user("LOCAL")
        pgid = int(self.lab.env["SLAPD_PID"])
        self.restart_front_auth()  # carol: never asked by this auth process
        _, tagged, _ = self.refer_line("e1", alice, pw, self.lab.direct, unique("dref-seen"))
        self.assertEqual(tagged, self.lab.referral("e1", alice, self.lab.home1, self.lab.home_port))
        time.sleep(DIRECTORY_CACHE_TTL + 1.5)  # alice's answer: over 1 s past cache_ttl
        offset = self.lab.log_size()
        os.killpg(pgid, signal.SIGSTOP)
        try:
            _, tagged, secs = self.refer_line("e2", alice, pw, self.lab.direct,
                                              unique("dref-stale"))
            self.assertEqual(tagged, self.lab.referral("e2", alice, self.lab.home1,
                                                       self.lab.home_port))
            self.assertGreater(secs, LDAP_TIMEOUT - 0.5, "answered before the directory was asked")
            self.assertLess(secs, LDAP_TIMEOUT + 1.0, "%.2fs" % secs)
            _, tagged, _ = self.refer_line("e3", alice, "wrong", self.lab.direct, unique("dref-w"))
            self.assertEqual(tagged, b"e3 " + AUTH_FAILED)
            _, tagged, secs = self.refer_line("e4", carol, cpw, self.lab.direct,
                                              unique("dref-unseen"))
            self.assertTrue(tagged.startswith(b"e4 NO [UNAVAILABLE] "), tagged)
            self.assertLess(secs, LDAP_TIMEOUT + 1.0 + INTERNAL_FAILURE_DELAY_MAX, "%.2fs" % secs)
        finally:
            os.killpg(pgid, signal.SIGCONT)
        stale_rx = (r"[^\n]*" + passdb_log("referral", re.escape(alice))
                    + r"directory: directory unavailable \(timeout: [^\n]*\): "
                    r"using the last answer, ([0-9]+) s past its cache TTL")
        text = self.lab.wait_log(offset, stale_rx)
        m = re.search(stale_rx, text)
        self.assertIn("Warning: ", m.group(0))
        self.assertGreaterEqual(int(m.group(1)), 1, m.group(0))
        # (on the connection's end line since issue 13: wait for it)
        text = self.lab.wait_log(offset, re.escape("; referral imap://%s;AUTH=*@%s:%d/"
                                                   % (alice, self.lab.home1, self.lab.home_port)))
        self.assertNotRegex(text, r"(auth|imap-login): (Fatal|Panic)")

    # R2221-3, D-11: a home server given by one of this server's names is
    # local; the same entry pointing at home1 is referred (the test can fail).
    def test_home_named_as_this_server_is_local_R2221_3_D11(self):
        user, pw = self.lab.user("UNLISTED")
        base = self.lab.env["LDAP_BASE"]
        dn = "uid=%s,ou=people,%s" % (user, base)
        rc, out = self.ldap("ldapadd", "dn: %s\nobjectClass: inetOrgPerson\n"
                                       "objectClass: inetLocalMailRecipient\nuid: %s\ncn: %s\n"
                                       "sn: Byname\nmailHost: front.lab.test\n" % (dn, user, user))
        self.assertEqual(rc, 0, out)
        try:
            time.sleep(DIRECTORY_CACHE_TTL + 0.5)  # negative cache entry of the unlisted user
            _, tagged, _ = self.refer_line("n1", user, pw, self.lab.direct, unique("dref-byname"))
            assert_local_login(tagged, "n1")
            rc, out = self.ldap("ldapmodify", "dn: %s\nchangetype: modify\nreplace: mailHost\n"
                                              "mailHost: %s\n" % (dn, self.lab.home1))
            self.assertEqual(rc, 0, out)
            time.sleep(DIRECTORY_CACHE_TTL + 0.5)
            _, tagged, _ = self.refer_line("n2", user, pw, self.lab.direct, unique("dref-byname"))
            self.assertEqual(tagged, self.lab.referral("n2", user, self.lab.home1,
                                                       self.lab.home_port))
        finally:
            self.ldap("ldapdelete", dn + "\n")
            time.sleep(DIRECTORY_CACHE_TTL + 0.5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
