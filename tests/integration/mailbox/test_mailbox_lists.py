#!/usr/bin/env python3
"""RLIST and RLSUB on the lab's front (RFC 2193 §5; plugin/imap).

RLIST "" "*" lists local and remote mailboxes, LIST "" "*" only local ones
(R2193-13, R2193-14, R2193-18); "%" stops at the separator (R2193-27); names
go out in modified UTF-7; RLSUB lists the remote mailboxes the user
subscribed to, LSUB does not (R2193-28); bad arguments get LIST's BAD;
hostile directory entries never reach the wire and are logged.
"""
import re
import unittest

from mailbox_support import (BUERO_WIRE, Lab, NO_SUCH_MAILBOX, TIMING, assert_clean_wire,
                             list_names)

REMOTE_CAROL = [b"Archive/2019", BUERO_WIRE, b"Shared/Projects"]
REMOTE_SHARED = [BUERO_WIRE, b"Shared/Projects"]


class RemoteListing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()

    def setUp(self):
        self.c, _ = self.lab.session()
        self.addCleanup(self.c.close)

    def ok(self, tag, text, kind=b"LIST"):
        untagged, tagged = self.c.command(tag, text)
        self.assertTrue(tagged.startswith(tag.encode() + b" OK"), tagged)
        assert_clean_wire(self, untagged + [tagged])
        return untagged, list_names(untagged, kind)

    def test_rlist_star_lists_local_and_remote_list_only_local_R2193_13_R2193_14(self):
        untagged, names = self.ok("r1", 'RLIST "" "*"')
        remote = [n for n, flags in names if flags == b""]
        self.assertEqual(sorted(remote), sorted(REMOTE_CAROL))
        self.assertIn(b"INBOX", [n for n, _ in names])
        for name in REMOTE_CAROL:
            self.assertEqual([n for n, _ in names].count(name), 1, untagged)
        # The exact remote lines (no attributes defined by RFC 2193).
        self.assertIn(b'* LIST () "/" Shared/Projects', untagged)
        self.assertIn(b'* LIST () "/" ' + BUERO_WIRE, untagged)
        _, local = self.ok("r2", 'LIST "" "*"')
        local_names = [n for n, _ in local]
        self.assertIn(b"INBOX", local_names)
        for name in REMOTE_CAROL:
            self.assertNotIn(name, local_names)
        self.assertEqual(sorted(local_names), sorted(n for n, f in names if f != b""
                                                     and n not in (b"Shared", b"Archive")))

    def test_percent_stops_at_separator_R2193_27(self):
        untagged, names = self.ok("p1", 'RLIST "" "%"')
        by_name = dict(names)
        for remote in REMOTE_CAROL:
            self.assertNotIn(remote, by_name)
        # RFC 3501 §6.3.8: the levels leading to matches, \Noselect (no local
        # mailbox), with children (RFC 3348; issue 12 item 4).
        self.assertEqual(by_name.get(b"Shared"), b"\\Noselect \\HasChildren", untagged)
        self.assertEqual(by_name.get(b"Archive"), b"\\Noselect \\HasChildren", untagged)
        self.assertIn(b"INBOX", by_name)
        _, names = self.ok("p2", 'RLIST "" "Shared/%"')
        self.assertEqual(sorted(n for n, _ in names), sorted(REMOTE_SHARED))
        _, names = self.ok("p3", 'RLIST "Shared/" "%"')  # reference joined as LIST does
        self.assertEqual(sorted(n for n, _ in names), sorted(REMOTE_SHARED))
        _, names = self.ok("p4", 'RLIST "" "Shared/P*"')
        self.assertEqual([n for n, _ in names], [b"Shared/Projects"])
        _, names = self.ok("p5", b'RLIST "" "Shared/B&APw-*"')  # pattern in modified UTF-7
        self.assertEqual([n for n, _ in names], [BUERO_WIRE])
        _, names = self.ok("p6", 'LIST "" "%"')
        self.assertNotIn(b"Shared", [n for n, _ in names])

    def test_rlist_empty_pattern_is_lists_delimiter_reply(self):
        untagged, _ = self.ok("e1", 'RLIST "" ""')
        self.assertEqual(untagged, [b'* LIST (\\Noselect) "/" ""'])

    def test_bad_arguments_get_lists_bad_R2193_27(self):
        def shape(tagged, tag):
            # "<tag> BAD Error in IMAP command RLIST: <why> (<timing>)." -> why
            text = tagged[len(tag) + 1:]
            return re.sub(rb" \(\d.*secs\)\.$", b"", text).replace(b"RLIST", b"LIST").replace(
                b"RLSUB", b"LSUB")
        for tag, text in (("b1", "RLIST"), ("b2", 'RLIST ""'), ("b3", 'RLSUB "" "*" extra'),
                          ("b4", 'RLIST "" ("*"')):
            untagged, tagged = self.c.command(tag, text)
            self.assertTrue(tagged.startswith(tag.encode() + b" BAD"), tagged)
            self.assertEqual(untagged, [])
            plain = text.replace("RLIST", "LIST").replace("RLSUB", "LSUB")
            _, expected = self.c.command(tag + "x", plain)
            self.assertEqual(shape(tagged, tag), shape(expected, tag + "x"))
        self.ok("b9", "NOOP")

    def test_rlsub_lists_subscribed_remote_mailboxes_lsub_does_not_R2193_28(self):
        try:
            self.c.command("s2", "SUBSCRIBE Shared/Projects")
            untagged, names = self.ok("s3", 'RLSUB "" "*"', b"LSUB")
            self.assertIn(b'* LSUB () "/" Shared/Projects', untagged)
            self.assertNotIn(BUERO_WIRE, [n for n, _ in names])  # not subscribed
            _, names = self.ok("s4", 'LSUB "" "*"', b"LSUB")
            self.assertNotIn(b"Shared/Projects", [n for n, _ in names])
            _, names = self.ok("s5", 'RLSUB "" "Shared/%"', b"LSUB")
            self.assertEqual([n for n, _ in names], [b"Shared/Projects"])
            _, names = self.ok("s6", 'RLSUB "" "%"', b"LSUB")
            self.assertNotIn(b"Shared/Projects", [n for n, _ in names])
            self.c.command("s7", "UNSUBSCRIBE Shared/Projects")
            _, names = self.ok("s8", 'RLSUB "" "*"', b"LSUB")
            self.assertNotIn(b"Shared/Projects", [n for n, _ in names])
        finally:
            self.c.command("s9", "UNSUBSCRIBE Shared/Projects")

    def test_list_remote_option_marks_remote_mailboxes_RFC5258(self):
        # RFC 5258 §3 ("Updates: 2193"): LIST (REMOTE) is RLIST with \Remote.
        untagged, names = self.ok("x1", 'LIST (REMOTE) "" "*"')
        self.assertEqual(sorted(n for n, f in names if f == b"\\Remote"), sorted(REMOTE_CAROL))
        self.assertIn(b'* LIST (\\Remote) "/" Shared/Projects', untagged)
        _, names = self.ok("x2", 'LIST (REMOTE) "" ("Shared/P*" "Arch*")')
        self.assertEqual(sorted(n for n, _ in names), [b"Archive/2019", b"Shared/Projects"])
        try:
            self.c.command("x3", "SUBSCRIBE Shared/Projects")
            untagged, _ = self.ok("x4", 'LIST (REMOTE SUBSCRIBED) "" "*"')
            self.assertIn(b'* LIST (\\Remote \\Subscribed) "/" Shared/Projects', untagged)
            _, names = self.ok("x5", 'LIST (SUBSCRIBED) "" "*"')
            self.assertNotIn(b"Shared/Projects", [n for n, _ in names])
        finally:
            self.c.command("x6", "UNSUBSCRIBE Shared/Projects")

    def test_location_on_this_server_is_never_referred_R2193_3(self):
        # The directory puts Shared/Loop on the front itself (local_names).
        _, names = self.ok("y1", 'RLIST "" "Shared/*"')
        self.assertNotIn(b"Shared/Loop", [n for n, _ in names])
        untagged, tagged = self.c.command("y2", "SELECT Shared/Loop")
        self.assertRegex(tagged, re.escape(b"y2 " + NO_SUCH_MAILBOX + b"Shared/Loop") + TIMING)
        self.assertRegex(self.lab.log_since(0),
                         r"Warning: remote mailboxes: .*Shared/Loop.*is this server, treated as local")

    def test_visibility_follows_the_directory_D10(self):
        # carol sees the shared mailboxes and her personal one (above); dave,
        # served here but unknown to the directory, sees no remote mailbox.
        other, _ = self.lab.session("UNLISTED")
        self.addCleanup(other.close)
        untagged, tagged = other.command("v1", 'RLIST "" "*"')
        self.assertTrue(tagged.startswith(b"v1 OK"), tagged)
        self.assertEqual([n for n, f in list_names(untagged) if f == b""], [])
        self.assertIn(b"INBOX", [n for n, _ in list_names(untagged)])

    def test_hostile_entries_never_reach_the_wire_and_are_logged(self):
        untagged, names = self.ok("h1", 'RLIST "" "*"')
        assert_clean_wire(self, untagged)
        # Only the three valid remote mailboxes: every hostile one was dropped.
        self.assertEqual(sorted(n for n, f in names if f == b""), sorted(REMOTE_CAROL))
        # Their names are not remote here: no referral, and nothing of the
        # directory's hostile values (the client's own name is echoed).
        for tag, name in (("h2", "Shared/HostileURL"), ("h3", "Shared/Long")):
            untagged, tagged = self.c.command(tag, "SELECT " + name)
            self.assertRegex(tagged, re.escape(
                tag.encode() + b" " + NO_SUCH_MAILBOX + name.encode()) + TIMING)
            self.assertEqual(untagged, [])
        log = self.lab.log_since(0)
        for dn in ("hostile-url", "hostile-name", "hostile-nul", "hostile-long", "self-loop"):
            self.assertRegex(log, r"(?i)(warning|error).*description=%s" % dn,
                             "no log line for the skipped entry %s" % dn)


if __name__ == "__main__":
    unittest.main(verbosity=2)
