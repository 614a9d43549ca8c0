#!/usr/bin/env python3
"""A directory change reaches a running session within cache_ttl (plugin/imap;
RUN_SERIAL: adds a remote mailbox to the lab's directory and removes it).

The lab's front uses cache_ttl = 2s.  The first command after the TTL starts
a background refresh (the command itself is answered from the old table);
a later command sees the new entry, in RLIST and as a referral.
"""
import os
import re
import shutil
import time
import unittest

from mailbox_support import (Lab, NO_SUCH_MAILBOX, TIMING, assert_referral, clear_mailbox_cache,
                             ldap_tool, list_names, remote_names)

NAME = "Shared/Fresh"


class TableRefresh(unittest.TestCase):
    def setUp(self):
        self.lab = Lab()
        e = self.lab.env
        self.dn = "imapMailboxName=%s,ou=mailboxes,%s" % (NAME, e["LDAP_BASE"])

    def test_new_remote_mailbox_appears_within_cache_ttl(self):
        c, _ = self.lab.session()
        self.addCleanup(c.close)
        self.assertNotIn(NAME.encode(), remote_names(self, c, "f1"))
        ldif = ("dn: %s\nobjectClass: imapRemoteMailbox\nimapMailboxName: %s\n"
                "imapMailboxURL: imap://%s:%d/%s\n"
                % (self.dn, NAME, self.lab.home2, self.lab.home_port, NAME)).encode()
        rc, out = ldap_tool(self.lab, "ldapadd", ldif)
        self.assertEqual(rc, 0, out)
        self.addCleanup(ldap_tool, self.lab, "ldapdelete", None, [self.dn])
        # Runs first: no later test's session may start from a file that
        # still lists the entry (mailbox_cache_dir).
        self.addCleanup(clear_mailbox_cache, self.lab)
        deadline = time.monotonic() + 15.0
        n = 0
        while NAME.encode() not in remote_names(self, c, "f%d" % (n + 2)):
            n += 1
            self.assertLess(time.monotonic(), deadline, "the new entry never reached the session")
            time.sleep(0.3)
        _, tagged = c.command("g1", "SELECT " + NAME)
        assert_referral(self, tagged, "g1",
                        self.lab.url(self.lab.user("LOCAL")[0], self.lab.home2, NAME))


class LocalMailboxShadowedByRemote(unittest.TestCase):
    """A local mailbox with a remote name (made on disk, as a migration
    leftover would be): it is never opened locally, never listed by LIST,
    and RLIST prints the name once (item 3: no duplicate lines)."""

    def test_shadowed_local_mailbox_is_remote_everywhere(self):
        lab = Lab()
        user = lab.user("LOCAL")[0]
        maildir = os.path.join(lab.env["LAB_DIR"], "front", "mail", user, "Maildir")
        box = os.path.join(maildir, ".Shared.Projects")
        self.assertTrue(os.path.isdir(maildir), maildir)
        self.assertFalse(os.path.exists(box), box)
        try:
            for sub in ("", "cur", "new", "tmp"):
                os.makedirs(os.path.join(box, sub), exist_ok=True)
                os.chown(os.path.join(box, sub), 65534, 65534)
            c, _ = lab.session()
            self.addCleanup(c.close)
            untagged, tagged = c.command("w1", 'RLIST "" "*"')
            self.assertTrue(tagged.startswith(b"w1 OK"), tagged)
            self.assertEqual([n for n, _ in list_names(untagged)].count(b"Shared/Projects"), 1,
                             untagged)
            untagged, tagged = c.command("w2", 'LIST "" "*"')
            self.assertNotIn(b"Shared/Projects", [n for n, _ in list_names(untagged)])
            _, tagged = c.command("w3", "SELECT Shared/Projects")
            assert_referral(self, tagged, "w3", lab.url(user, lab.home2, "Shared/Projects"))
            _, tagged = c.command("w4", "STATUS Shared/Projects (MESSAGES)")
            self.assertRegex(tagged, re.escape(b"w4 " + NO_SUCH_MAILBOX + b"Shared/Projects")
                             + TIMING)
        finally:
            shutil.rmtree(box, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
