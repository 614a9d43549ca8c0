#!/usr/bin/env python3
"""Directory outage at session start (plugin/imap; RUN_SERIAL).

slapd is paused (SIGSTOP: the socket accepts, nothing answers) after a first
login has put the user's passdb answer in the auth cache, so the login still
succeeds while the imap process's remote mailbox lookup times out after
ldap_timeout.  The session must work on local mailboxes, the front must log
a warning, and remote names are then simply unknown: SELECT of one answers
as for a mailbox that does not exist, RLIST lists local mailboxes only.
slapd is resumed in every case.
"""
import re
import signal
import os
import time
import unittest

from mailbox_support import TIMING, Lab, list_names, select_inbox_works


class DirectoryOutageAtSessionStart(unittest.TestCase):
    def setUp(self):
        self.lab = Lab()
        self.slapd_pid = int(self.lab.env["SLAPD_PID"])

    def signal_slapd(self, sig):
        os.killpg(self.slapd_pid, sig)

    def test_session_works_locally_with_a_logged_warning(self):
        warm, _ = self.lab.session()  # auth cache: the next login needs no directory
        warm.logout()
        offset = self.lab.log_size()
        self.signal_slapd(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            c, _ = self.lab.session()
            self.addCleanup(c.close)
            untagged, tagged = c.command("o1", "SELECT Shared/Projects")
            waited = time.monotonic() - t0
            self.assertRegex(tagged, re.escape(b"o1 NO Mailbox doesn't exist: Shared/Projects")
                             + TIMING)
            self.assertLess(waited, 8.0, "the mailbox command waited longer than ldap_timeout+1s")
            select_inbox_works(self, c, "o2")
            untagged, tagged = c.command("o3", 'RLIST "" "*"')
            self.assertTrue(tagged.startswith(b"o3 OK"), tagged)
            self.assertEqual([n for n, f in list_names(untagged) if f == b""], [])
            self.lab.wait_log(offset, r"imap\(%s\).*Warning: remote mailboxes: "
                                      r"(directory unavailable|directory did not answer)"
                              % self.lab.user("LOCAL")[0], timeout=10)
        finally:
            self.signal_slapd(signal.SIGCONT)
        # Restored: a new session refers again.
        time.sleep(0.5)
        c2, _ = self.lab.session()
        self.addCleanup(c2.close)
        _, tagged = c2.command("o4", "SELECT Shared/Projects")
        self.assertIn(b"o4 NO [REFERRAL ", tagged)


if __name__ == "__main__":
    unittest.main(verbosity=2)
