#!/usr/bin/env python3
"""Mailbox referrals on the lab's front (RFC 2193 §3, §4; plugin/imap).

Every mailbox command on a remote mailbox gets one tagged
NO [REFERRAL <url>] with the exact URL, and the same connection keeps working
(R2193-4, R2193-19, R2193-20, R2193-21); APPEND refuses a synchronising
literal instead of sending "+" and consumes a LITERAL+ one (D-15); a
non-ASCII name sent in modified UTF-7 gives the UTF-8 percent-encoded URL,
and following that URL by hand opens the mailbox on home2 (R5092-10).
Commands behind switches that are off by default answer without a referral
(D-6, D-9, R2193-26 off).
"""
import re
import unittest
import urllib.parse

from mailbox_support import (BUERO, BUERO_WIRE, Lab, Literal, NO_SUCH_MAILBOX, TIMING,
                             append_own_message, assert_referral, mutf7_encode, remove_own_message,
                             select_inbox_works)

MESSAGE = b"From: t@example.test\r\nSubject: referral test\r\n\r\nbody\r\n"


class MailboxReferralCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()
        cls.user, cls.password = cls.lab.user("LOCAL")
        cls.projects = cls.lab.url(cls.user, cls.lab.home2, "Shared/Projects")

    def setUp(self):
        self.c, self.login_line = self.lab.session()
        self.addCleanup(self.c.close)

    def cmd(self, tag, text):
        return self.c.command(tag, text)

    # -- R2193-1
    def test_capability_lists_mailbox_referrals_R2193_1(self):
        self.assertRegex(self.login_line, rb"^l1 OK \[CAPABILITY [^\]]* MAILBOX-REFERRALS[ \]]")
        untagged, tagged = self.cmd("c1", "CAPABILITY")
        self.assertTrue(tagged.startswith(b"c1 OK"), tagged)
        caps = [l for l in untagged if l.startswith(b"* CAPABILITY ")]
        self.assertEqual(len(caps), 1, untagged)
        self.assertIn(b"MAILBOX-REFERRALS", caps[0].split())

    # -- R2193-19, R2193-20, SELECT closes the selected mailbox
    def test_select_refers_and_closes_selected_mailbox_R2193_19_R2193_20(self):
        select_inbox_works(self, self.c, "s1")
        untagged, tagged = self.cmd("s2", "SELECT Shared/Projects")
        assert_referral(self, tagged, "s2", self.projects)
        self.assertEqual(untagged, [b"* OK [CLOSED] Previous mailbox closed."])
        # No mailbox is selected any more: a selected-state command fails.
        _, tagged = self.cmd("s3", "FETCH 1 FLAGS")
        self.assertTrue(tagged.startswith(b"s3 BAD"), tagged)
        select_inbox_works(self, self.c, "s4")

    def test_examine_refers_R2193_19(self):
        untagged, tagged = self.cmd("e1", "EXAMINE Shared/Projects")
        assert_referral(self, tagged, "e1", self.projects)
        self.assertEqual(untagged, [])
        select_inbox_works(self, self.c, "e2")

    def test_delete_refers_R2193_19(self):
        _, tagged = self.cmd("d1", "DELETE Shared/Projects")
        assert_referral(self, tagged, "d1", self.projects)
        select_inbox_works(self, self.c, "d2")

    def test_subscribe_and_unsubscribe_refer_R2193_19(self):
        try:
            _, tagged = self.cmd("u1", "SUBSCRIBE Shared/Projects")
            assert_referral(self, tagged, "u1", self.projects)
            _, tagged = self.cmd("u2", "UNSUBSCRIBE Shared/Projects")
            assert_referral(self, tagged, "u2", self.projects)
            select_inbox_works(self, self.c, "u3")
        finally:
            self.cmd("u9", "UNSUBSCRIBE Shared/Projects")

    def test_create_inside_remote_subtree_refers_R2193_21(self):
        _, tagged = self.cmd("k1", "CREATE Shared/Projects/2026")
        assert_referral(self, tagged, "k1",
                        self.lab.url(self.user, self.lab.home2, "Shared/Projects/2026"))
        # The name was not created locally: LIST does not show it.
        untagged, tagged = self.cmd("k2", 'LIST "" "Shared/*"')
        self.assertTrue(tagged.startswith(b"k2 OK"), tagged)
        self.assertEqual(untagged, [])
        select_inbox_works(self, self.c, "k3")

    def test_inferior_of_remote_mailbox_refers_with_its_own_name_R2193_19(self):
        _, tagged = self.cmd("i1", "SELECT Shared/Projects/2026/Q1")
        assert_referral(self, tagged, "i1",
                        self.lab.url(self.user, self.lab.home2, "Shared/Projects/2026/Q1"))
        select_inbox_works(self, self.c, "i2")

    # -- D-15: APPEND literals
    def test_append_sync_literal_refused_instead_of_continuation_D15(self):
        untagged, tagged = self.c.command("a1", ["APPEND Shared/Projects ", Literal(MESSAGE)])
        # The client library returns the tagged answer that came instead of "+".
        self.assertEqual(untagged, [])
        assert_referral(self, tagged, "a1", self.projects)
        # The literal was never sent, and the server does not wait for it.
        select_inbox_works(self, self.c, "a2")

    def test_append_literal_plus_consumed_then_refused_D15(self):
        untagged, tagged = self.c.command(
            "a1", ["APPEND Shared/Projects (\\Seen) ", Literal(MESSAGE, plus=True)])
        self.assertEqual(untagged, [])
        assert_referral(self, tagged, "a1", self.projects)
        # The literal's bytes were read as the literal, not as commands.
        _, tagged = self.cmd("a2", "NOOP")
        self.assertTrue(tagged.startswith(b"a2 OK NOOP completed"), tagged)
        select_inbox_works(self, self.c, "a3")

    # -- switches that are off by default
    def test_status_is_not_referred_by_default_D9(self):
        _, tagged = self.cmd("t1", "STATUS Shared/Projects (MESSAGES)")
        self.assertRegex(tagged, re.escape(b"t1 " + NO_SUCH_MAILBOX + b"Shared/Projects") + TIMING)
        select_inbox_works(self, self.c, "t2")

    def test_rename_is_not_referred_by_default_D6(self):
        _, tagged = self.cmd("r1", "RENAME Shared/Projects Shared/Renamed")
        self.assertRegex(tagged, re.escape(
            b"r1 NO [CANNOT] Cannot rename: the mailbox is on another server") + TIMING)
        select_inbox_works(self, self.c, "r2")

    def test_copy_and_move_are_not_referred_by_default_R2193_26(self):
        uid = append_own_message(self, self.c, "m0", MESSAGE)
        self.addCleanup(remove_own_message, self.c, "m9", uid)
        for tag, command in (("m2", "COPY 1:* Shared/Projects"), ("m3", "MOVE 1:* Shared/Projects"),
                             ("m4", "UID COPY %d Shared/Projects" % uid),
                             ("m5", "UID MOVE %d Shared/Projects" % uid)):
            _, tagged = self.cmd(tag, command)
            self.assertRegex(tagged, re.escape(
                tag.encode() + b" NO [CANNOT] Destination mailbox is on another server") + TIMING)
        untagged, tagged = self.cmd("m6", "UID SEARCH UID %d" % uid)
        self.assertTrue(tagged.startswith(b"m6 OK"), tagged)
        self.assertEqual(untagged, [b"* SEARCH %d" % uid], "MOVE removed the message")

    # -- R5092-10: a non-ASCII name, and following the URL by hand
    def test_non_ascii_name_gives_utf8_url_that_opens_on_home2_R5092_10(self):
        untagged, tagged = self.cmd("n1", b"EXAMINE " + BUERO_WIRE)
        url = self.lab.url(self.user, self.lab.home2, BUERO)
        self.assertIn(b"/Shared/B%C3%BCro", url)
        assert_referral(self, tagged, "n1", url)
        select_inbox_works(self, self.c, "n2")

        m = re.match(rb"^imap://([^;@]+);AUTH=\*@([^:/]+):(\d+)/(.+)$", url)
        user = urllib.parse.unquote(m.group(1).decode("ascii"))
        host, port = m.group(2).decode(), int(m.group(3))
        mailbox = urllib.parse.unquote(m.group(4).decode("ascii"), encoding="utf-8", errors="strict")
        self.assertEqual((user, host, port, mailbox), (self.user, self.lab.home2, self.lab.home_port,
                                                       BUERO))
        remote = self.lab.connect(host, port)
        self.addCleanup(remote.close)
        _, tagged = remote.login("h1", user, self.password)
        self.assertTrue(tagged.startswith(b"h1 OK"), tagged)
        untagged, tagged = remote.command("h2", b"SELECT \"" + mutf7_encode(mailbox).encode() + b"\"")
        self.assertTrue(tagged.startswith(b"h2 OK [READ-WRITE]"), tagged)
        self.assertIn(b"* 1 EXISTS", untagged)

    # -- item 6: visibility
    def test_personal_remote_mailbox_only_for_its_owner_D10(self):
        _, tagged = self.cmd("v1", "SELECT Archive/2019")
        assert_referral(self, tagged, "v1", self.lab.url(self.user, self.lab.home1, "Archive/2019"))
        # dave is served here but is not in the directory: he has no remote
        # mailboxes at all (not carol's personal one, and no shared one).
        other, _ = self.lab.session("UNLISTED")
        self.addCleanup(other.close)
        for tag, name in (("v2", b"Archive/2019"), ("v3", b"Shared/Projects")):
            _, tagged = other.command(tag, b"SELECT " + name)
            self.assertRegex(tagged, re.escape(
                tag.encode() + b" " + NO_SUCH_MAILBOX + name) + TIMING)

    def test_same_name_refers_on_every_command_item6(self):
        for tag, text in (("x1", "SELECT Shared/Projects"), ("x2", "EXAMINE shared/projects"),
                          ("x3", "SELECT Shared/Projects")):
            _, tagged = self.cmd(tag, text)
            if tag == "x2":  # only INBOX is case-insensitive: a different, local name
                self.assertRegex(tagged, re.escape(
                    b"x2 " + NO_SUCH_MAILBOX + b"shared/projects") + TIMING)
            else:
                assert_referral(self, tagged, tag, self.projects)

    # -- R2193-30
    def test_every_referral_is_logged_R2193_30(self):
        offset = self.lab.log_size()
        _, tagged = self.cmd("g1", "SELECT Shared/Projects")
        assert_referral(self, tagged, "g1", self.projects)
        self.lab.wait_log(offset, r"imap\(%s\).*mailbox referral: user=%s command=SELECT "
                                  r"mailbox=Shared/Projects target=%s urls=1"
                          % (self.user, self.user, re.escape(self.projects.decode())))


if __name__ == "__main__":
    unittest.main(verbosity=2)
