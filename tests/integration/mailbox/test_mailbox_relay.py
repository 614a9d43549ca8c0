#!/usr/bin/env python3
"""Mailbox relay (issue 12, docs/mailbox-relay.md): with mailbox_relay = yes
and mailbox_referral_mode = opt-in in the lab's settings file (changed for
this test and restored afterwards: RUN_SERIAL), a client that cannot follow
referrals (Python imaplib) logged in at the front, carol's home server,
reads and writes the shared mailbox Shared/Projects that lives on home2,
through Dovecot's imapc storage logged in to home2 as the lab's master user.

- same message count, UIDs, subjects, SEARCH and STATUS as on home2 itself;
- an APPEND, a STORE and a COPY from the front's INBOX through the front
  are seen on home2; IDLE on the relayed mailbox sees a message delivered
  on home2;
- a client that opted in (RLIST) still gets the referral, also after a
  relayed SELECT in the same session;
- an owning server that is down: NO [UNAVAILABLE] for its mailbox only.
"""
import os
import time
import unittest

from mailbox_support import assert_referral, list_names, select_inbox_works
from relay_support import (PROJECTS, RelayTestCase, add_unreachable_remote_mailbox, flags_of,
                           messages, ok)


class MailboxRelay(RelayTestCase):
    def test_list_shows_the_remote_mailbox(self):
        m = self.front()
        names = [n for n, _ in list_names([b"* LIST " + d for d in ok(m.list('""', "*"))])]
        self.assertIn(PROJECTS.encode(), names)
        self.assertIn(b"INBOX", names)
        levels = ok(m.list('""', "Shared/%"))
        self.assertTrue(any(PROJECTS.encode() in d for d in levels), levels)

    def test_select_fetch_search_status_as_on_home2(self):
        direct = self.home2()
        direct_count = int(ok(direct.select(PROJECTS, readonly=True))[0])
        direct_msgs = messages(direct)
        direct_search = ok(direct.uid("SEARCH", "SUBJECT", "kick-off"))[0].split()
        direct_status = ok(direct.status(PROJECTS, "(MESSAGES UIDNEXT UIDVALIDITY)"))[0]
        self.assertGreater(direct_count, 0)

        m = self.front()
        for readonly in (False, True):  # SELECT, EXAMINE
            count = int(ok(m.select(PROJECTS, readonly=readonly))[0])
            self.assertEqual(count, direct_count)
            self.assertEqual(messages(m), direct_msgs)
            self.assertEqual(ok(m.uid("SEARCH", "SUBJECT", "kick-off"))[0].split(), direct_search)
        self.assertTrue(direct_search)
        m.close()
        self.assertEqual(ok(m.status(PROJECTS, "(MESSAGES UIDNEXT UIDVALIDITY)"))[0],
                         direct_status)
        # The rest of the session is the front's own.
        self.assertEqual(ok(m.select("INBOX"))[0].isdigit(), True)

    def test_append_and_store_reach_home2(self):
        subject = "relay test %d.%d" % (os.getpid(), int(time.time() * 1000))
        message = ("From: relay@example.test\r\nSubject: %s\r\n\r\nthrough the front\r\n"
                   % subject).encode()
        m = self.front()
        ok(m.append(PROJECTS, None, None, message))
        direct = self.home2()
        ok(direct.select(PROJECTS))
        uids = ok(direct.uid("SEARCH", "SUBJECT", '"%s"' % subject))[0].split()
        self.assertEqual(len(uids), 1, uids)
        uid = int(uids[0])

        def cleanup():
            direct.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
            direct.expunge()
        self.addCleanup(cleanup)

        ok(m.select(PROJECTS))
        self.assertEqual([int(u) for u in ok(m.uid("SEARCH", "SUBJECT", '"%s"' % subject))[0].split()],
                         [uid])
        self.assertNotIn(rb"\Flagged", flags_of(direct, uid))
        ok(m.uid("STORE", str(uid), "+FLAGS", r"(\Flagged)"))
        ok(direct.noop())
        self.assertIn(rb"\Flagged", flags_of(direct, uid))

    def test_copy_from_inbox_lands_on_home2(self):
        m = self.front()
        ok(m.select("INBOX"))
        subject = messages(m)
        self.assertTrue(subject, "carol's INBOX on the front is empty")
        uid, header = sorted(subject.items())[0]
        wanted = header.split(b":", 1)[1].strip().decode()
        direct = self.home2()
        ok(direct.select(PROJECTS))
        before = ok(direct.uid("SEARCH", "SUBJECT", '"%s"' % wanted))[0].split()
        ok(m.uid("COPY", str(uid), PROJECTS))
        ok(direct.noop())
        after = ok(direct.uid("SEARCH", "SUBJECT", '"%s"' % wanted))[0].split()
        new = sorted(set(after) - set(before))
        self.assertEqual(len(new), 1, (before, after))

        def cleanup():
            direct.uid("STORE", new[0], "+FLAGS.SILENT", r"(\Deleted)")
            direct.expunge()
        self.addCleanup(cleanup)
        self.assertTrue(ok(m.select("INBOX"))[0].isdigit())  # the source stays

    def test_idle_sees_a_message_delivered_on_home2(self):
        c, _ = self.lab.session(tag="i0")
        self.addCleanup(c.close)
        untagged, tagged = c.command("i1", "SELECT " + PROJECTS)
        self.assertTrue(tagged.startswith(b"i1 OK [READ-WRITE]"), tagged)
        exists = [int(l.split()[1]) for l in untagged if l.endswith(b" EXISTS")]
        self.assertEqual(len(exists), 1, untagged)
        c.send_raw(b"i2 IDLE\r\n")
        self.assertTrue(c.read_line().startswith(b"+"))
        subject = "relay idle %d.%d" % (os.getpid(), int(time.time() * 1000))
        direct = self.home2()
        ok(direct.append(PROJECTS, None, None,
                         ("Subject: %s\r\n\r\ndelivered on home2\r\n" % subject).encode()))
        ok(direct.select(PROJECTS))
        uids = ok(direct.uid("SEARCH", "SUBJECT", '"%s"' % subject))[0].split()

        def cleanup():
            direct.uid("STORE", uids[-1], "+FLAGS.SILENT", r"(\Deleted)")
            direct.expunge()
        self.addCleanup(cleanup)
        # Dovecot's own IDLE checks the mailbox every mailbox_idle_check_interval
        # (30 s by default) unless the storage notifies it earlier.
        line = c.read_line(timeout=45)
        while not line.endswith(b" EXISTS"):
            line = c.read_line(timeout=45)
        self.assertEqual(int(line.split()[1]), exists[0] + 1, line)
        c.send_raw(b"DONE\r\n")
        _, tagged = c.read_until_tagged("i2")
        self.assertTrue(tagged.startswith(b"i2 OK"), tagged)

    def test_client_that_opted_in_gets_the_referral(self):
        url = self.lab.url(self.user, self.lab.home2, PROJECTS)
        # Opted in from the start: never relayed.
        c, _ = self.lab.session()
        self.addCleanup(c.close)
        _, tagged = c.command("r1", 'RLIST "" "Shared/%"')
        self.assertTrue(tagged.startswith(b"r1 OK"), tagged)
        _, tagged = c.command("r2", "SELECT " + PROJECTS)
        assert_referral(self, tagged, "r2", url)
        # Relayed first, then opted in: the same name is referred from then on.
        c2, _ = self.lab.session(tag="m1")
        self.addCleanup(c2.close)
        _, tagged = c2.command("m2", "EXAMINE " + PROJECTS)
        self.assertTrue(tagged.startswith(b"m2 OK [READ-ONLY]"), tagged)
        _, tagged = c2.command("m3", 'LIST (REMOTE) "" "Shared/*"')
        self.assertTrue(tagged.startswith(b"m3 OK"), tagged)
        _, tagged = c2.command("m4", "SELECT " + PROJECTS)
        assert_referral(self, tagged, "m4", url)
        select_inbox_works(self, c2, "m5")

    def test_owner_down_is_unavailable_for_its_mailbox_only(self):
        name = "Shared/RelayDown"
        add_unreachable_remote_mailbox(self, self.lab, name)
        c, _ = self.lab.session()
        self.addCleanup(c.close)
        _, tagged = c.command("d1", "SELECT " + name)
        self.assertRegex(tagged, rb"^d1 NO \[UNAVAILABLE\] ")
        _, tagged = c.command("d2", "EXAMINE " + PROJECTS)
        self.assertTrue(tagged.startswith(b"d2 OK [READ-ONLY]"), tagged)
        select_inbox_works(self, c, "d3")


if __name__ == "__main__":
    unittest.main(verbosity=2)
