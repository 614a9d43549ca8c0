#!/usr/bin/env python3
"""Mailbox referral switches (plugin/imap), with the lab's settings file
changed for this test and restored afterwards (RUN_SERIAL).

The imap plugin reads the settings file when an imap process starts its
first session, so a new login sees the change at once (the auth and login
processes keep what they read at their start).

- mailbox_referral_mode = opt-in (D-8): before RLIST/RLSUB a remote name is
  answered as a name that does not exist here; after it, referrals.
- mailbox_referral_status (D-9), _rename (D-6, R2193-23: pairs of URLs) and
  _copy (R2193-26) switched on.
"""
import re
import unittest

from mailbox_support import (BUERO, Lab, Literal, NO_SUCH_MAILBOX, TIMING, append_own_message,
                             assert_referral, remove_own_message, replace_file,
                             select_inbox_works)

SWITCHES = ("mailbox_referral_mode = opt-in\n"
            "mailbox_referral_status = yes\n"
            "mailbox_referral_rename = yes\n"
            "mailbox_referral_copy = yes\n")
MESSAGE = b"From: t@example.test\r\nSubject: switches\r\n\r\nbody\r\n"



class MailboxReferralSwitches(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()
        cls.path = cls.lab.env["REFERRAL_SETTINGS"]
        with open(cls.path, "r", encoding="utf-8") as f:
            cls.original = f.read()
        if "mailbox_referral_" in cls.original:
            raise RuntimeError("%s already sets mailbox_referral_*: this test would duplicate "
                               "keys" % cls.path)
        replace_file(cls.path, cls.original.rstrip("\n") + "\n# imap test switches\n" + SWITCHES)

    @classmethod
    def tearDownClass(cls):
        replace_file(cls.path, cls.original)

    def setUp(self):
        self.user = self.lab.user("LOCAL")[0]
        self.c, _ = self.lab.session()
        self.addCleanup(self.c.close)
        self.projects = self.lab.url(self.user, self.lab.home2, "Shared/Projects")

    def opt_in(self):
        _, tagged = self.c.command("o1", 'RLIST "" "Shared/%"')
        self.assertTrue(tagged.startswith(b"o1 OK"), tagged)

    def test_opt_in_mode_hides_remote_names_until_rlist_D8(self):
        _, tagged = self.c.command("q1", "SELECT Shared/Projects")
        self.assertRegex(tagged, re.escape(b"q1 " + NO_SUCH_MAILBOX + b"Shared/Projects") + TIMING)
        _, tagged = self.c.command("q2", ["APPEND Shared/Projects ", Literal(MESSAGE, plus=True)])
        self.assertRegex(tagged, re.escape(
            b"q2 NO [TRYCREATE] Mailbox doesn't exist: Shared/Projects") + TIMING)
        _, tagged = self.c.command("q3", "CREATE Shared/Projects/new")
        self.assertRegex(tagged, re.escape(
            b"q3 NO [CANNOT] Mailbox name is reserved for a remote mailbox") + TIMING)
        untagged, tagged = self.c.command("q4", 'LIST "" "*"')
        self.assertNotIn(b"Shared", b"".join(untagged))
        self.opt_in()
        _, tagged = self.c.command("q5", "SELECT Shared/Projects")
        assert_referral(self, tagged, "q5", self.projects)
        select_inbox_works(self, self.c, "q6")

    def test_rlsub_opts_in_too_D8(self):
        _, tagged = self.c.command("w1", 'RLSUB "" "*"')
        self.assertTrue(tagged.startswith(b"w1 OK"), tagged)
        _, tagged = self.c.command("w2", "EXAMINE Shared/Projects")
        assert_referral(self, tagged, "w2", self.projects)

    def test_status_referral_when_switched_on_D9(self):
        self.opt_in()
        _, tagged = self.c.command("t1", "STATUS Shared/Projects (MESSAGES UIDNEXT)")
        assert_referral(self, tagged, "t1", self.projects)
        untagged, tagged = self.c.command("t2", "STATUS INBOX (MESSAGES)")
        self.assertTrue(tagged.startswith(b"t2 OK"), tagged)

    def test_rename_referral_is_a_pair_of_urls_R2193_23(self):
        self.opt_in()
        _, tagged = self.c.command("r1", "RENAME Shared/Projects Shared/Renamed")
        assert_referral(self, tagged, "r1", self.projects,
                        self.lab.url(self.user, self.lab.home2, "Shared/Renamed"))
        _, tagged = self.c.command("r2", b"RENAME Shared/Projects Shared/B&APw-ro")
        assert_referral(self, tagged, "r2", self.projects,
                        self.lab.url(self.user, self.lab.home2, BUERO))
        # A local mailbox cannot move into a remote subtree in one RENAME.
        self.c.command("r3", "DELETE LocalRenameSource")
        _, tagged = self.c.command("r4", "CREATE LocalRenameSource")
        self.assertTrue(tagged.startswith(b"r4 OK"), tagged)
        try:
            _, tagged = self.c.command("r5", "RENAME LocalRenameSource Shared/Projects/x")
            self.assertRegex(tagged, re.escape(
                b"r5 NO [CANNOT] Cannot rename: the mailbox is on another server") + TIMING)
        finally:
            self.c.command("r6", "DELETE LocalRenameSource")
        select_inbox_works(self, self.c, "r7")

    def test_copy_and_move_referral_when_switched_on_R2193_26(self):
        self.opt_in()
        uid = append_own_message(self, self.c, "m0", MESSAGE)
        self.addCleanup(remove_own_message, self.c, "m9", uid)
        for tag, command in (("m2", "COPY 1:* Shared/Projects"),
                             ("m3", "UID COPY %d Shared/Projects" % uid),
                             ("m4", "UID MOVE %d Shared/Projects" % uid)):
            _, tagged = self.c.command(tag, command)
            assert_referral(self, tagged, tag, self.projects)
        untagged, tagged = self.c.command("m5", "UID SEARCH UID %d" % uid)
        self.assertTrue(tagged.startswith(b"m5 OK"), tagged)
        self.assertEqual(untagged, [b"* SEARCH %d" % uid], "MOVE removed the message")


if __name__ == "__main__":
    unittest.main(verbosity=2)
