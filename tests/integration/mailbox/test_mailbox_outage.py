#!/usr/bin/env python3
"""Directory outage at session start (plugin/imap; RUN_SERIAL).

slapd is paused (SIGSTOP: the socket accepts, nothing answers) right after a
first login has put the user's placement in the passdb driver's directory
cache (cache_ttl, 2 s in the lab), so the next login still
succeeds while the imap process's remote mailbox lookup times out after
ldap_timeout.  The session must work on local mailboxes, the front must log
a warning, and remote names are then simply unknown: SELECT of one answers
as for a mailbox that does not exist, RLIST lists local mailboxes only.
Commands that need no table run at once meanwhile; mailbox commands wait
(asynchronously) for the lookup's end and keep their pipelined order.
slapd is resumed in every case.
"""
import re
import signal
import os
import time
import unittest

from mailbox_support import (Lab, NO_SUCH_MAILBOX, TIMING, clear_mailbox_cache, list_names,
                             select_inbox_works)


class DirectoryOutageAtSessionStart(unittest.TestCase):
    def setUp(self):
        self.lab = Lab()
        self.slapd_pid = int(self.lab.env["SLAPD_PID"])

    def signal_slapd(self, sig):
        os.killpg(self.slapd_pid, sig)

    def test_session_works_locally_with_a_logged_warning(self):
        warm, _ = self.lab.session()  # directory cache: the next login needs no LDAP
        warm.logout()
        clear_mailbox_cache(self.lab)  # the table must come from the (paused) directory
        offset = self.lab.log_size()
        self.signal_slapd(signal.SIGSTOP)
        try:
            c, _ = self.lab.session()
            self.addCleanup(c.close)
            # A command that needs no table is answered at once ...
            t0 = time.monotonic()
            _, tagged = c.command("o0", "NOOP")
            self.assertTrue(tagged.startswith(b"o0 OK"), tagged)
            self.assertLess(time.monotonic() - t0, 1.0, "NOOP waited for the directory")
            # ... a mailbox command waits for the lookup (parked, not answered
            # from an empty table), bounded by ldap_timeout (2s) + 1s; a
            # pipelined command behind it keeps its place.
            t0 = time.monotonic()
            c.send_raw(b"o1 SELECT Shared/Projects\r\no1b NOOP\r\n")
            _, tagged = c.read_until_tagged("o1")
            waited = time.monotonic() - t0
            self.assertRegex(tagged, re.escape(b"o1 " + NO_SUCH_MAILBOX + b"Shared/Projects")
                             + TIMING)
            self.assertGreater(waited, 1.0, "the command did not wait for the directory")
            self.assertLess(waited, 8.0, "the mailbox command waited longer than ldap_timeout+1s")
            _, tagged = c.read_until_tagged("o1b")
            self.assertTrue(tagged.startswith(b"o1b OK NOOP"), tagged)
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
