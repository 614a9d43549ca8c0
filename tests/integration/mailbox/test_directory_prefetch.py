#!/usr/bin/env python3
"""The referral passdb's prefetch at login (docs/directory-service.md §6) on
the lab's real Dovecot and slapd: the lab's settings file switched to the
referral-directory service, the front's dovecot.conf given the debug
category "referral" and the socket's group for the auth process; both
restored afterwards (RUN_SERIAL: reloads the front, kills and stops the
service, moves its socket away, adds a directory entry).

- A login served on the front makes the auth process send PREFETCH; the
  service starts the lookup at once and the imap process's LOOKUP joins it
  (or takes its answer, held or cached): one directory lookup, no second
  search.
- The service unreachable (socket gone) or frozen (SIGSTOP): the login is
  answered as before, in well under a second; the auth process only logs
  the dropped hint at debug level, never a warning or an error.
- A remote mailbox added to the directory reaches new sessions within
  cache_ttl (2 s in the lab): a prefetch never makes an answer older.
"""
import os
import re
import signal
import time
import unittest

from mailbox_support import (Lab, kill_service, ldap_tool, referring_session, remote_names,
                             replace_file, service_pids)
from dovecot_processes import restart_auth

CACHE_TTL = 2.0  # tests/lab/conf/dovecot-referral.conf.ext.in
FRESH = "Shared/PrefetchFresh"


def with_service(settings_text):
    """The lab's settings with the service on and no mailbox_cache_dir (the
    shipped configuration), prefetch at its default (on)."""
    lines = [ln for ln in settings_text.splitlines()
             if not ln.startswith("mailbox_directory_service")
             and not ln.startswith("mailbox_cache_dir")
             and not ln.startswith("mailbox_prefetch_at_login")]
    return "\n".join(lines) + "\n# test_directory_prefetch.py\n" \
        "mailbox_directory_service = referral-directory\n"


# The lab's socket has the imap processes' group (nogroup); the shipped one
# has $default_internal_group, the auth process's own.  Debug lines of our
# category from every process (the service's and the auth process's).
FRONT_EXTRA = ("\n# test_directory_prefetch.py\nlog_debug = category=referral\n"
               "service auth {\n  extra_groups = nogroup\n}\n")


class DirectoryPrefetch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()
        cls.path = cls.lab.env["REFERRAL_SETTINGS"]
        cls.conf = cls.lab.env["FRONT_CONF"]
        cls.front_pid = int(cls.lab.env["FRONT_PID"])
        with open(cls.path, "r", encoding="utf-8") as f:
            cls.original = f.read()
        with open(cls.conf, "r", encoding="utf-8") as f:
            cls.original_conf = f.read()
        replace_file(cls.path, with_service(cls.original))
        with open(cls.conf, "a", encoding="utf-8") as f:
            f.write(FRONT_EXTRA)
        # A new auth process reads the settings file (the driver's is read
        # at its start) and the new dovecot.conf.
        restart_auth(cls.conf, cls.front_pid)

    @classmethod
    def tearDownClass(cls):
        replace_file(cls.path, cls.original)
        with open(cls.conf, "w", encoding="utf-8") as f:
            f.write(cls.original_conf)
        restart_auth(cls.conf, cls.front_pid)

    def setUp(self):
        self.user = self.lab.user("LOCAL")[0]
        self.projects = self.lab.url(self.user, self.lab.home2, "Shared/Projects")
        self.socket = os.path.join(self.lab.env["LAB_DIR"], "front", "run", "referral-directory")

    def fresh_service(self):
        """A new service with an empty cache at the next connection, and an
        auth process past its reconnect pause (1 s after it saw the old
        service's connection close)."""
        kill_service(self, self.lab)
        time.sleep(1.3)

    def timed_login(self):
        t0 = time.monotonic()
        c, _ = self.lab.session()
        elapsed = time.monotonic() - t0
        return c, elapsed

    def user_rx(self):
        return r'"?%s"?' % re.escape(self.user)

    # ------------------------------------------------------------ tests
    def test_0_login_prefetches_and_the_session_joins_it(self):
        # The service runs (master starts it).
        referring_session(self, self.lab, "w0", self.projects)
        self.fresh_service()
        offset = self.lab.log_size()
        referring_session(self, self.lab, "p0", self.projects)
        self.lab.wait_log(offset, r"directory prefetch of %s sent to " % self.user_rx())
        self.lab.wait_log(offset, r"referral-directory: Debug: prefetch of %s: asking the "
                                  r"directory" % self.user_rx())
        # The imap process's LOOKUP joined the prefetched lookup, or found
        # its answer (held, or in the cache when the search ended first):
        # one directory lookup of this user for the login and its session.
        self.lab.wait_log(offset, r"imap\(%s\).*remote mailboxes: \d+ entries loaded"
                                  % re.escape(self.user))
        log = self.lab.settled_log_since(offset)
        self.assertNotIn("asking the directory from this process", log)
        self.assertEqual(len(re.findall(r"prefetch of %s: asking the directory" % self.user_rx(),
                                        log)), 1, log)
        self.assertEqual(len(re.findall(r"remote mailboxes of %s: \d+ entries from the directory"
                                        % self.user_rx(), log)), 1, log)
        # Within cache_ttl the next login's prefetch finds the cached answer:
        # it asks nothing.
        offset = self.lab.log_size()
        referring_session(self, self.lab, "p1", self.projects)
        self.lab.wait_log(offset, r"directory prefetch of %s sent to " % self.user_rx())
        self.assertNotRegex(self.lab.settled_log_since(offset),
                            r"prefetch of %s: asking" % self.user_rx())

    def test_1_service_gone_does_not_touch_the_login(self):
        referring_session(self, self.lab, "g0", self.projects)
        self.fresh_service()  # the auth process's connection is closed
        away = self.socket + ".away"
        os.rename(self.socket, away)
        try:
            offset = self.lab.log_size()
            c, elapsed = self.timed_login()
            c.logout()
            self.assertLess(elapsed, 1.0, "the login waited for the missing service")
            self.lab.wait_log(offset, r"Debug: directory prefetch: connect\(%s\) failed"
                                      % re.escape(self.socket))
            # The next login within the pause does not try again.
            c, elapsed = self.timed_login()
            c.logout()
            self.assertLess(elapsed, 1.0)
            self.lab.wait_log(offset, r"directory prefetch of %s dropped: " % self.user_rx())
            log = self.lab.settled_log_since(offset)
            self.assertEqual(len(re.findall(r"directory prefetch: connect", log)), 1, log)
            self.assertNotRegex(log, r"auth: (Warning|Error|Fatal|Panic)")
        finally:
            os.rename(away, self.socket)

    def test_2_frozen_service_does_not_hold_the_login(self):
        # Past a reconnect pause an earlier test may have left, then a login
        # whose hint went out: the auth process is connected to the service.
        time.sleep(1.3)
        offset = self.lab.log_size()
        referring_session(self, self.lab, "f0", self.projects)
        self.lab.wait_log(offset, r"directory prefetch of %s sent to " % self.user_rx())
        pids = service_pids(self.lab)
        self.assertEqual(len(pids), 1, pids)
        offset = self.lab.log_size()
        os.kill(pids[0], signal.SIGSTOP)
        try:
            for i in range(5):
                c, elapsed = self.timed_login()
                self.assertLess(elapsed, 1.0, "login %d waited for the frozen service" % i)
                c.close()
            # The hints went out while it was frozen (queued in the socket).
            self.lab.wait_log(offset, r"directory prefetch of %s sent to " % self.user_rx())
        finally:
            os.kill(pids[0], signal.SIGCONT)
        self.assertNotRegex(self.lab.settled_log_since(offset),
                            r"auth: (Warning|Error|Fatal|Panic)")
        referring_session(self, self.lab, "f1", self.projects)

    def test_3_changed_entry_seen_within_cache_ttl(self):
        c, _ = self.lab.session()
        try:
            self.assertNotIn(FRESH.encode(), remote_names(self, c, "c0"))
        finally:
            c.close()
        dn = "imapMailboxName=%s,ou=mailboxes,%s" % (FRESH, self.lab.env["LDAP_BASE"])
        ldif = ("dn: %s\nobjectClass: imapRemoteMailbox\nimapMailboxName: %s\n"
                "imapMailboxURL: imap://%s:%d/%s\n"
                % (dn, FRESH, self.lab.home2, self.lab.home_port, FRESH)).encode()
        rc, out = ldap_tool(self.lab, "ldapadd", ldif)
        self.assertEqual(rc, 0, out)
        self.addCleanup(ldap_tool, self.lab, "ldapdelete", None, [dn])
        added = time.monotonic()
        n = 0
        while True:
            n += 1
            self.assertLess(time.monotonic() - added, CACHE_TTL + 1.5,
                            "new sessions saw the change late")
            c, _ = self.lab.session()
            try:
                if FRESH.encode() in remote_names(self, c, "n%d" % n):
                    break
            finally:
                c.close()
            time.sleep(0.2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
