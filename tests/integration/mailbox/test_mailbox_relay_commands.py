#!/usr/bin/env python3
"""Mailbox relay, the remaining commands (issue 12 items 1 and 5,
docs/mailbox-relay.md §2): with the relay on (relay_support.RelayTestCase),
real clients that cannot follow referrals (Python imaplib, curl) at the
front, carol's home server, use Shared/Projects on home2, and every effect
is checked in carol's own session on home2 (the owner):

- CREATE, RENAME and DELETE below the remote entry happen on home2; each
  is the first mailbox command of its session (the relay namespace is made
  by whatever command names the mailbox first, not by a list of commands);
- RENAME between the front and home2, between two remote entries, or of
  the entry itself: NO [CANNOT], and nothing moved on either server;
- DELETE of the entry itself: NO [CANNOT], the mailbox stays on home2;
- MOVE and UID MOVE into and out of the relayed mailbox, EXPUNGE in it;
- SUBSCRIBE / UNSUBSCRIBE of the remote name: recorded in carol's
  subscriptions on the front (RLSUB there lists it, R2193-14), not on home2;
- curl: FETCH of a message by UID, CREATE and DELETE below the entry;
- the UW c-client probe (DREF_CCLIENT_PROBE) in the same run opts in with
  RLIST and gets NO [REFERRAL] for Shared/Projects (D-8, R2193-19), follows
  it to home2 and sees the same message count the relay gives imaplib.
"""
import os
import re
import subprocess
import time
import unittest

from mailbox_support import BUERO, list_names, mutf7_encode
from relay_support import PROJECTS, RelayTestCase, logout, messages, ok


def unique(what):
    return "rc-%s-%d-%d" % (what, os.getpid(), int(time.time() * 1000) % 10000000)


def tagged_text(data):
    return b" ".join(d for d in data if isinstance(d, bytes))


class RelayCommands(RelayTestCase):
    def listed_on_home2(self, pattern):
        """Names carol's session on home2 LISTs for `pattern` (fresh session:
        nothing cached)."""
        direct = self.home2()
        data = ok(direct.list('""', pattern))
        names = [n for n, _ in list_names([b"* LIST " + d for d in data if d])]
        logout(direct)
        return names

    def delete_on_home2(self, *names):
        direct = self.home2()
        for name in names:
            direct.delete(name)  # already gone is fine
        logout(direct)

    def uids_on_home2(self, mailbox, subject):
        direct = self.home2()
        ok(direct.select(mailbox, readonly=True))
        uids = ok(direct.uid("SEARCH", "SUBJECT", '"%s"' % subject))[0].split()
        logout(direct)
        return [int(u) for u in uids]

    def remove_on_home2(self, mailbox, subject):
        direct = self.home2()
        if direct.select(mailbox)[0] == "OK":
            for uid in ok(direct.uid("SEARCH", "SUBJECT", '"%s"' % subject))[0].split():
                direct.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
            direct.expunge()
        logout(direct)

    # -- CREATE / RENAME / DELETE below the remote entry (R2193-22: the home
    #    server takes the CREATE of a mailbox that lives on a remote server)

    def test_create_rename_delete_below_the_remote_entry(self):
        child = "%s/%s" % (PROJECTS, unique("child"))
        renamed = child + "-renamed"
        self.addCleanup(self.delete_on_home2, child, renamed)
        subject = unique("in-child")

        m = self.front()
        ok(m.create(child))  # the first mailbox command of this session
        self.assertEqual(self.listed_on_home2(child), [child.encode()])
        ok(m.append(child, None, None,
                    ("Subject: %s\r\n\r\nbelow the entry\r\n" % subject).encode()))
        self.assertEqual(len(self.uids_on_home2(child, subject)), 1)
        logout(m)

        m = self.front()
        ok(m.rename(child, renamed))  # RENAME first: not one of the commands wrapped before
        self.assertEqual(self.listed_on_home2(child), [])
        self.assertEqual(self.listed_on_home2(renamed), [renamed.encode()])
        self.assertEqual(len(self.uids_on_home2(renamed, subject)), 1)  # the message moved along
        logout(m)

        m = self.front()
        ok(m.delete(renamed))  # DELETE first
        self.assertEqual(self.listed_on_home2(renamed), [])

    def test_rename_across_servers_or_entries_is_cannot(self):
        child = "%s/%s" % (PROJECTS, unique("stay"))
        local = unique("local")
        self.addCleanup(self.delete_on_home2, child)
        m = self.front()
        self.addCleanup(m.delete, local)
        ok(m.create(child))
        ok(m.create(local))
        for old, new in ((local, "%s/%s" % (PROJECTS, local)),        # local -> remote
                         (child, local + "-out"),                       # remote -> local
                         (child, "%s/%s" % (BUERO, unique("x"))),       # entry -> other entry
                         (PROJECTS, "Shared/" + unique("entry"))):      # the entry itself
            typ, data = m.rename(mutf7_encode(old), mutf7_encode(new))
            self.assertEqual(typ, "NO", (old, new, data))
            self.assertTrue(tagged_text(data).startswith(b"[CANNOT] "), (old, new, data))
        # Nothing moved: both still where they were, nothing new on home2.
        self.assertEqual(self.listed_on_home2(child), [child.encode()])
        self.assertEqual(self.listed_on_home2(PROJECTS), [PROJECTS.encode()])
        self.assertEqual(self.listed_on_home2("%s/%s" % (PROJECTS, local)), [])
        self.assertEqual(int(ok(m.select(local))[0]), 0)

    def test_delete_of_the_entry_itself_is_cannot(self):
        # The directory names Shared/Projects: deleting it on home2 would
        # leave an entry that names nothing, so the front refuses, whether
        # DELETE is the session's first mailbox command or not.
        for first in (True, False):
            m = self.front()
            if not first:
                # The relay namespace exists already.  CLOSE: Dovecot's
                # DELETE of the selected mailbox disconnects even when the
                # delete fails (cmd-delete.c), for local mailboxes too.
                ok(m.select(PROJECTS))
                ok(m.close())
            typ, data = m.delete(PROJECTS)
            self.assertEqual(typ, "NO", data)
            self.assertTrue(tagged_text(data).startswith(b"[CANNOT] "), data)
            self.assertIn(b"directory names", tagged_text(data))
            direct = self.home2()
            on_home2 = int(ok(direct.select(PROJECTS, readonly=True))[0])
            logout(direct)
            self.assertEqual(int(ok(m.select(PROJECTS, readonly=True))[0]), on_home2)
            logout(m)
        self.assertEqual(self.listed_on_home2(PROJECTS), [PROJECTS.encode()])

    # -- MOVE / UID MOVE / EXPUNGE

    def test_move_into_and_out_of_the_relayed_mailbox(self):
        local = unique("move")
        subject = unique("moved")
        self.addCleanup(self.remove_on_home2, PROJECTS, subject)
        m = self.front()
        self.addCleanup(m.delete, local)
        ok(m.create(local))
        ok(m.append(local, None, None, ("Subject: %s\r\n\r\nmove me\r\n" % subject).encode()))

        ok(m.select(local))
        ok(m.uid("MOVE", "1:*", PROJECTS))  # into the relayed mailbox
        self.assertEqual(len(self.uids_on_home2(PROJECTS, subject)), 1)
        ok(m.select(local))
        self.assertEqual(messages(m), {})

        ok(m.select(PROJECTS))
        uids = ok(m.uid("SEARCH", "SUBJECT", '"%s"' % subject))[0].split()
        self.assertEqual(len(uids), 1, uids)
        seq = ok(m.search(None, "SUBJECT", '"%s"' % subject))[0].split()
        ok(m._simple_command("MOVE", seq[0].decode(), local))  # out of it (plain MOVE)
        self.assertEqual(self.uids_on_home2(PROJECTS, subject), [])
        ok(m.select(local))
        self.assertEqual(len(ok(m.uid("SEARCH", "SUBJECT", '"%s"' % subject))[0].split()), 1)
        # And back with UID MOVE from the relayed side, then out again.
        ok(m.uid("MOVE", "1:*", PROJECTS))
        ok(m.select(PROJECTS))
        uid = ok(m.uid("SEARCH", "SUBJECT", '"%s"' % subject))[0].split()[0].decode()
        ok(m.uid("MOVE", uid, local))
        self.assertEqual(self.uids_on_home2(PROJECTS, subject), [])

    def test_expunge_in_the_relayed_mailbox_reaches_home2(self):
        subject = unique("expunge")
        self.addCleanup(self.remove_on_home2, PROJECTS, subject)
        direct = self.home2()
        ok(direct.append(PROJECTS, None, None,
                         ("Subject: %s\r\n\r\ndelivered on home2\r\n" % subject).encode()))
        logout(direct)
        uid = self.uids_on_home2(PROJECTS, subject)[0]

        m = self.front()
        ok(m.select(PROJECTS))
        ok(m.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"))
        typ, data = m.expunge()
        self.assertEqual(typ, "OK", data)
        self.assertEqual(len([d for d in data if d]), 1, data)  # one * n EXPUNGE
        self.assertEqual(self.uids_on_home2(PROJECTS, subject), [])

    # -- SUBSCRIBE / UNSUBSCRIBE: the subscription lives on the home server

    def test_subscription_of_the_remote_name_stays_at_home(self):
        def rlsub_names():
            c, _ = self.lab.session(tag="s0")
            try:
                untagged, tagged = c.command("s1", 'RLSUB "" "Shared/*"')
                self.assertTrue(tagged.startswith(b"s1 OK"), tagged)
                return [n for n, _ in list_names(untagged, b"LSUB")]
            finally:
                c.close()

        def lsub_on_home2():
            direct = self.home2()
            data = ok(direct.lsub('""', "Shared/*"))
            logout(direct)
            return [n for n, _ in list_names([b"* LSUB " + d for d in data if d], b"LSUB")]

        self.assertNotIn(PROJECTS.encode(), rlsub_names())
        home2_before = lsub_on_home2()
        m = self.front()
        self.addCleanup(self.front().unsubscribe, PROJECTS)
        ok(m.subscribe(PROJECTS))  # the first mailbox command of this session
        self.assertIn(PROJECTS.encode(), rlsub_names())  # R2193-14: RLSUB at home lists it
        self.assertEqual(lsub_on_home2(), home2_before)  # nothing sent to the owner
        ok(m.select(PROJECTS))  # the session still relays
        ok(m.unsubscribe(PROJECTS))
        self.assertNotIn(PROJECTS.encode(), rlsub_names())
        self.assertEqual(lsub_on_home2(), home2_before)

    # -- curl, a second client that cannot follow referrals

    def curl(self, url_path, request=None):
        cfg = 'user = "%s:%s"\n' % (self.user, self.password)
        args = ["curl", "--silent", "--show-error", "--max-time", "30", "--config", "-"]
        if request:
            args += ["--request", request]
        args.append("imap://%s:%d/%s" % (self.lab.front, self.lab.port, url_path))
        p = subprocess.run(args, input=cfg.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")

    def test_curl_fetch_create_delete_through_the_relay(self):
        direct = self.home2()
        ok(direct.select(PROJECTS, readonly=True))
        uid, subject = sorted(messages(direct).items())[0]
        logout(direct)
        rc, out, err = self.curl("Shared%%2FProjects;UID=%d" % uid)
        self.assertEqual(rc, 0, err)
        self.assertIn(subject, out)

        child = "%s/%s" % (PROJECTS, unique("curl"))
        self.addCleanup(self.delete_on_home2, child)
        rc, _, err = self.curl("", "CREATE %s" % child)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.listed_on_home2(child), [child.encode()])
        rc, _, err = self.curl("", "DELETE %s" % child)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.listed_on_home2(child), [])

    # -- the c-client probe in the same run (issue 12 item 5)

    def test_cclient_that_opted_in_is_referred_while_imaplib_is_relayed(self):
        probe = os.environ.get("DREF_CCLIENT_PROBE", "")
        self.assertTrue(probe and os.access(probe, os.X_OK),
                        "no c-client probe at DREF_CCLIENT_PROBE=%r (tests/clients; the 2.4 run "
                        "needs scripts/cclient-probe.sh <build>/cclient-probe)" % probe)
        direct = self.home2()
        count = int(ok(direct.select(PROJECTS, readonly=True))[0])
        logout(direct)

        m = self.front()
        self.assertEqual(int(ok(m.select(PROJECTS, readonly=True))[0]), count)  # relayed

        env = dict(os.environ, DREF_PROBE_PASSWORD=self.password)
        p = subprocess.Popen([probe, self.lab.front, str(self.lab.port), self.user, PROJECTS],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, start_new_session=True)
        try:
            out, err = p.communicate(b"quit\n", timeout=60)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, 9)
                p.wait()
        lines = out.decode("utf-8", "replace").splitlines()
        self.assertEqual(p.returncode, 0, (lines, err[-2000:]))
        url = self.lab.url(self.user, self.lab.home2, PROJECTS).decode()
        self.assertIn("referral REFSELECT %s" % url, lines)  # it opted in with RLIST (D-8)
        follow = [l for l in lines if l.startswith("follow ")]
        self.assertEqual(len(follow), 1, lines)
        self.assertTrue(re.match(r"^follow \{%s:%d/imap/notls/user=%s\}%s$"
                                 % (re.escape(self.lab.home2), self.lab.home_port,
                                    re.escape(self.user), re.escape(PROJECTS)), follow[0]),
                        follow)
        self.assertIn("messages %d" % count, lines)


if __name__ == "__main__":
    unittest.main(verbosity=2)
