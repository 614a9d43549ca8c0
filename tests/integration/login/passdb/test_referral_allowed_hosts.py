#!/usr/bin/env python3
"""allowed_hosts against the lab (REQUIREMENTS §2.6 item 3, RFC 5092 §3.2).

The lab front's settings list the two home servers in allowed_hosts.  The
directory names rogue.example.org, a valid host name outside the list, twice:
as olga's mailHost (role ROGUE) and as the location of carol's personal remote
mailbox Archive/Rogue.  Neither may ever reach the wire, and neither a
referral nor the proxy may go there.
"""
import os
import unittest

from referral_support import AUTH_FAILED, REJECT, Lab, assert_local_login, login
from dovecot_version import passdb_log

ROGUE_HOST = "rogue.example.org"


class AllowedHostsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()

    # §2.6-3: a home outside allowed_hosts gets the clean reject on the
    # referring listener and on the proxying one: no URL, no proxy attempt.
    def test_home_outside_allowed_hosts_is_refused_not_referred_or_proxied(self):
        olga, pw = self.lab.user("ROGUE")
        offset = self.lab.log_size()
        for port in (self.lab.direct, self.lab.port):
            c = self.lab.connect(port)
            try:
                untagged, tagged, _ = login(c, "h1", olga, pw)
                self.assertEqual(tagged, b"h1 " + REJECT, port)
                self.assertEqual(untagged, [])
                self.assertNotIn(ROGUE_HOST.encode(), tagged)
            finally:
                c.close()
        text = self.lab.wait_log(
            offset, passdb_log("referral", olga) + r"[^\n]*decision reject[^\n]*not in allowed_hosts")
        self.assertIn(ROGUE_HOST, text)
        # Dovecot's proxy never tried the host.
        # (2.3 logs "proxy(olga): ...", 2.4 "proxy(olga,<rip>,<session>): ...")
        self.assertNotRegex(text, r"proxy\(%s[,)][^\n]*%s" % (olga, ROGUE_HOST))

    # R2221-15 still first: a wrong password is the plain failure, whatever
    # the home server.
    def test_wrong_password_is_plain_failure_R2221_15(self):
        olga, _ = self.lab.user("ROGUE")
        c = self.lab.connect(self.lab.direct)
        try:
            _, tagged, _ = login(c, "h2", olga, "not-the-password")
            self.assertEqual(tagged, b"h2 " + AUTH_FAILED)
        finally:
            c.close()

    # §2.6-3 for mailbox referrals (R2193-5/-8): the location outside the
    # list is dropped with a warning; the entry has no other location, so the
    # name stays local (it does not exist on the front), while carol's
    # allowed remote mailbox is still referred.
    def test_mailbox_location_outside_allowed_hosts_is_never_referred(self):
        carol, pw = self.lab.user("LOCAL")
        # A table read from the front's mailbox cache file only repeats the
        # warnings at debug level: make this session ask the directory.
        cache_dir = self.lab.env.get("MAILBOX_CACHE_DIR")
        if cache_dir and os.path.isdir(cache_dir):
            for name in os.listdir(cache_dir):
                try:
                    os.unlink(os.path.join(cache_dir, name))
                except FileNotFoundError:
                    pass
        offset = self.lab.log_size()
        c = self.lab.connect(self.lab.port)
        try:
            _, tagged, _ = login(c, "m1", carol, pw)
            assert_local_login(tagged, "m1")
            _, tagged = c.command("m2", "SELECT Archive/Rogue")
            self.assertTrue(tagged.startswith(b"m2 NO "), tagged)
            self.assertNotIn(b"REFERRAL", tagged)
            self.assertNotIn(ROGUE_HOST.encode(), tagged)
            _, tagged = c.command("m3", "SELECT Archive/2019")
            self.assertTrue(tagged.startswith(b"m3 NO [REFERRAL imap://"), tagged)
            untagged, tagged = c.command("m4", 'RLIST "" "Archive/*"')
            self.assertTrue(tagged.startswith(b"m4 OK"), tagged)
            listed = b"\n".join(untagged)
            self.assertIn(b"Archive/2019", listed)
            self.assertNotIn(b"Archive/Rogue", listed)
            c.command("m5", "LOGOUT")
        finally:
            c.close()
        text = self.lab.wait_log(offset, r"%s[^\n]*skipped: host not in allowed_hosts" % ROGUE_HOST)
        self.assertNotIn("\r", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
