#!/usr/bin/env python3
"""What a hostile or odd owning server can do to a relaying session
(docs/mailbox-relay.md §3.6-§3.8), with scripted owners on home1's address
(tests/integration/mailbox/scripted_owner.py: no real Dovecot sends these):

- names below a good entry that imapc escapes or that are "." / ".."
  levels (`Odd/.`, `Odd/..`, `Odd/x/..`, `Odd/./y`, `Odd/~t`): SELECT,
  STATUS, CREATE, DELETE, RENAME and APPEND of each, as listed and as typed,
  get a clean tagged OK/NO/BAD and the session goes on (NOOP after each); no
  "." or ".." level reaches the owner (`Odd/x/..` names the entry itself,
  which the relay never deletes or renames);
- an owner whose hierarchy separator is "." (not "/"): an entry whose owner's
  name imapc would escape with that separator ("Team/Ops": imapc escapes
  the "/") is not relayed, with a log line; an entry with a good name lists
  and opens through it, its names mapped with the owner's separator;
- an owner that answers a SELECT with untagged replies without end, and one
  that sends one line without end: the SELECT ends with NO [UNAVAILABLE],
  the owner's connection is dropped with a log line, the imap process stays
  small, and the session goes on;
- a client's mailbox name with CR, LF or ESC (decoded from modified UTF-7),
  local or below a relayed entry: every tagged NO stays one line.

Requirements: R2193-11 (commands that name a remote mailbox), R2193-17 (the
home server is the directory of what is relayed), and the project rule that
bad input gets a clean IMAP response, never a crash (../shared/design).
"""
import os
import re
import sys
import time
import unittest

from mailbox_support import Literal, assert_clean_wire, list_names
from relay_support import RelayTestCase, add_remote_mailbox, free_port
from scripted_owner import ScriptedOwner

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from dovecot_processes import children  # noqa: E402
from imap_client import ImapError  # noqa: E402

CRASH = ("Panic", "Fatal", "killed with signal", "Out of memory")
TAGGED = re.compile(rb"^\S+ (OK|NO|BAD) ")
DOT_LEVEL = re.compile(rb'Odd(/[^ "/]*)*/\.\.?(/|"| |$)')


class OddNameOwner(ScriptedOwner):
    """Lists, below its entry Odd, names imapc escapes or that are "." or
    ".." levels."""
    ENTRY = "Shared/Odd"
    REMOTE = "Odd"
    BELOW = [b"Odd/.", b"Odd/..", b"Odd/x/..", b"Odd/./y", b"Odd/~t", b"Odd/ok"]

    def answer(self, pattern):
        if pattern == b'""':
            return super().answer(pattern)
        return [b'* LIST () "/" Odd'] + [b'* LIST () "/" "%s"' % n for n in self.BELOW]


class DotOwner(ScriptedOwner):
    """An owner whose hierarchy separator is "."."""
    SEP = b"."
    ENTRY = "Shared/DotOk"
    REMOTE = "TeamOps"
    BAD = ("Shared/DotSlash", "Team/Ops")  # '/' is no separator there: imapc escapes it

    def answer(self, pattern):
        if pattern == b'""':
            return super().answer(pattern)
        asked = pattern.strip(b'"')[:-1]
        return [b'* LIST () "." "' + asked + b'"', b'* LIST () "." "' + asked + b'.a"',
                b'* LIST (\\Noselect) "." "' + asked + b'.b"', b'* LIST () "." "' + asked + b'.b.c"']


class FloodOwner(ScriptedOwner):
    """Answers SELECT with untagged replies without end."""
    ENTRY = "Shared/Flood"
    LINE = b"* OK still selecting\r\n"

    def __init__(self, addr, port):
        self.sent = 0
        super().__init__(addr, port)

    def select(self, conn, tag, name):
        batch = self.LINE * 1000
        while not self.stopping:
            conn.sendall(batch)  # OSError once the relay dropped the connection
            self.sent += len(batch)
        return False


class EndlessLineOwner(FloodOwner):
    """Answers SELECT with one untagged line that never ends."""
    ENTRY = "Shared/LongLine"

    def select(self, conn, tag, name):
        conn.sendall(b"* OK ")
        return super().select(conn, tag, name)

    LINE = b"x" * 64


def imap_rss_kib(front_pid):
    """The largest resident size of the front's imap processes (KiB)."""
    out = 0
    for pid in children(front_pid, "imap"):
        try:
            with open("/proc/%d/status" % pid, "r") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        out = max(out, int(line.split()[1]))
        except OSError:
            pass
    return out


class RelayOwnerInput(RelayTestCase):
    def start_owner(self, owner_class, entries):
        """owner_class on home1 and a directory entry for each (entry,
        owner's name) of `entries`."""
        port = free_port(self.lab.home1)
        owner = owner_class(self.lab.home1, port)
        self.addCleanup(owner.stop)
        for entry, remote in entries:
            add_remote_mailbox(self, self.lab, entry, self.lab.home1, port, remote=remote)
        return owner

    def session(self, tag="o1"):
        c, _ = self.lab.session(tag=tag)
        self.addCleanup(c.close)
        return c

    def test_names_below_an_entry_that_imapc_escapes_or_that_are_dot_levels(self):
        owner = self.start_owner(OddNameOwner, [(OddNameOwner.ENTRY, OddNameOwner.REMOTE)])
        mark = self.lab.log_size()
        c = self.session()
        untagged, tagged = c.command("n1", 'LIST "" "Shared/Odd*"', timeout=30)
        self.assertTrue(tagged.startswith(b"n1 OK"), tagged)
        listed = sorted(n for n, _ in list_names(untagged))
        print("\nlisted below Shared/Odd: %r" % listed, file=sys.stderr)
        names = ["Shared/Odd/.", "Shared/Odd/..", "Shared/Odd/x/..", "Shared/Odd/./y",
                 "Shared/Odd/~7et", "Shared/Odd/~t"]
        # SELECT last: DELETE of the selected mailbox ends the session on
        # purpose (Dovecot's cmd-delete.c), whatever the mailbox.
        commands = [("STATUS", '"%s" (MESSAGES)'), ("CREATE", '"%s"'), ("DELETE", '"%s"'),
                    ("RENAME", '"Shared/Odd/ok" "%s"'), ("RENAME", '"%s" "Shared/Odd/renamed"'),
                    ("APPEND", None), ("SELECT", '"%s"'), ("UNSELECT", "")]
        results = {}
        n = 0
        for name in names:
            for verb, args in commands:
                n += 1
                tag = "c%d" % n
                text = ([verb + ' "%s" ' % name, Literal(b"Subject: x\r\n\r\nx\r\n")]
                        if args is None else (verb + " " + args % name if args else verb))
                try:
                    untagged, tagged = c.command(tag, text, timeout=30)
                    assert_clean_wire(self, untagged)
                    self.assertRegex(tagged, TAGGED)
                    _, noop = c.command(tag + "n", "NOOP", timeout=30)
                    results[(verb, args, name)] = (tagged.split(b" ")[1], noop.split(b" ")[1])
                except (ImapError, OSError) as e:
                    results[(verb, args, name)] = ("closed", str(e)[:80])
                    c = self.session("o%d" % n)
        log = self.lab.settled_log_since(mark)
        print("\nodd names: %r" % sorted(results.items()), file=sys.stderr)
        for bad in CRASH:
            self.assertNotIn(bad, log)
        self.assertEqual({k: v for k, v in results.items() if v[1] != b"OK"}, {})
        # The dot levels are not listed (they would name the entry, its
        # parent or the same mailbox twice); "~t" as imapc shows it.
        self.assertEqual(listed, [b"Shared/Odd", b"Shared/Odd/ok", b"Shared/Odd/~7et"])
        # Nothing with a "." or ".." level reached the owner: Odd/x/.. is Odd.
        self.assertEqual([l for l in owner.received if DOT_LEVEL.search(l)], [])
        # The name as listed opens the owner's "Odd/~t".
        self.assertEqual(results[("SELECT", '"%s"', "Shared/Odd/~7et")][0], b"OK")
        self.assertTrue(owner.commands_naming(b'SELECT "Odd/~t"') or
                        owner.commands_naming(b"SELECT Odd/~t"), owner.received)

    def test_owner_separator_other_than_slash(self):
        bad_entry, bad_remote = DotOwner.BAD
        owner = self.start_owner(DotOwner, [(DotOwner.ENTRY, DotOwner.REMOTE),
                                            (bad_entry, bad_remote)])
        mark = self.lab.log_size()
        c = self.session()
        results = {}
        for tag, entry in (("d1", bad_entry), ("d2", DotOwner.ENTRY)):
            try:
                untagged, tagged = c.command(tag, 'LIST "" "%s*"' % entry, timeout=30)
                results[entry] = (tagged.split(b" ")[1], sorted(n for n, _ in list_names(untagged)))
            except (ImapError, OSError) as e:
                results[entry] = ("closed", str(e)[:80])
                c = self.session("d%s" % tag)
        print("\ndot owner: %r" % results, file=sys.stderr)
        log = self.lab.settled_log_since(mark)
        for bad in CRASH:
            self.assertNotIn(bad, log)
        self.assertEqual(results[bad_entry], (b"OK", [bad_entry.encode()]))
        self.assertRegex(log, r"the owner of %s .*separator '\.'" % re.escape(bad_remote))
        e = DotOwner.ENTRY.encode()
        self.assertEqual(results[DotOwner.ENTRY],
                         (b"OK", [e, e + b"/a", e + b"/b", e + b"/b/c"]))
        _, tagged = c.command("d3", 'SELECT "%s/b/c"' % DotOwner.ENTRY, timeout=30)
        self.assertTrue(tagged.startswith(b"d3 OK"), tagged)
        self.assertTrue(owner.commands_naming(b"TeamOps.b.c"), owner.received)
        _, tagged = c.command("d4", 'SELECT "%s"' % bad_entry, timeout=30)
        self.assertRegex(tagged, rb"^d4 NO ")
        _, tagged = c.command("d5", "EXAMINE INBOX")
        self.assertTrue(tagged.startswith(b"d5 OK"), tagged)

    def flood(self, owner_class, tag):
        owner = self.start_owner(owner_class, [(owner_class.ENTRY, None)])
        mark = self.lab.log_size()
        c = self.session()
        front_pid = int(self.lab.env["FRONT_PID"])
        before = imap_rss_kib(front_pid)
        started = time.monotonic()
        try:
            _, tagged = c.command(tag, 'SELECT "%s"' % owner_class.ENTRY, timeout=30)
        except (ImapError, OSError) as e:
            tagged = ("no answer: %s" % str(e)[:60]).encode()
        took = time.monotonic() - started
        rss = imap_rss_kib(front_pid)
        owner.stop()
        log = self.lab.settled_log_since(mark)
        print("\n".join(l[:200] for l in log.splitlines()
                        if re.search(r"imapc\(|relay|Fatal|Panic", l))[-1500:], file=sys.stderr)
        print("\n%s: SELECT answered %r after %.1f s, %d octets sent, imap RSS %d -> %d KiB"
              % (owner_class.__name__, tagged[:60], took, owner.sent, before, rss),
              file=sys.stderr)
        self.assertRegex(tagged, rb"^%s NO \[UNAVAILABLE\] " % tag.encode())
        self.assertLess(rss - before, 64 * 1024)
        for bad in CRASH:
            self.assertNotIn(bad, log)
        _, tagged = c.command(tag + "n", "NOOP")
        self.assertTrue(tagged.startswith(tag.encode() + b"n OK"), tagged)
        _, tagged = c.command(tag + "i", "EXAMINE INBOX")
        self.assertTrue(tagged.startswith(tag.encode() + b"i OK"), tagged)
        return log

    def test_owner_that_floods_untagged_replies_is_dropped(self):
        log = self.flood(FloodOwner, "f1")
        self.assertRegex(log, r"mailbox relay: user=%s: the owner of Shared/Flood sent more than "
                         r"\d+ untagged replies during one command: connection dropped"
                         % self.user)

    def test_owner_that_sends_one_endless_line_is_dropped(self):
        log = self.flood(EndlessLineOwner, "g1")
        self.assertRegex(log, r"imapc\(.*\): .*(too long|too large|buffer full)")

    def test_client_names_with_control_octets_never_reach_the_wire_raw(self):
        # Modified UTF-7 "&AA0ACgAb-" is CR LF ESC: Dovecot decodes it into
        # the name and repeats the name in "Mailbox doesn't exist: <name>"
        # (its storages, cmd-subscribe.c), and an owner's NO comes back
        # through imapc with what the owner repeated.  Before the plugin
        # cleaned these texts, the tagged NO ended after "Nope" and
        # "<ESC>FAKE ..." arrived as a line of its own.
        c = self.session("x0")
        results = {}
        n = 0
        for name in ("Nope&AA0ACgAb-FAKE", "Shared/Projects/&AA0ACgAb-FAKE",
                     "Shared/Projects/&ABs-FAKE"):
            for cmd in ('SELECT "%s"', 'STATUS "%s" (MESSAGES)', 'DELETE "%s"',
                        'RENAME "%s" "Elsewhere"', 'SUBSCRIBE "%s"', 'EXAMINE "%s"'):
                n += 1
                tag = b"x%d" % n
                c.send_raw(tag + b" " + (cmd % name).encode() + b"\r\n")
                first = c.read_line(timeout=30)
                between, noop = c.command("y%d" % n, "NOOP", timeout=30)
                results[cmd % name] = (first[:90], between, noop.split(b" ")[1])
        print("\ncontrol octets: %r" % results, file=sys.stderr)
        for text, (first, between, noop) in results.items():
            # The first line after the command is its tagged reply, whole:
            # nothing of the name arrives as a line of its own.
            self.assertRegex(first, rb"^x\d+ (OK|NO|BAD) ", text)
            self.assertNotIn(b"\x1b", first, text)
            self.assertEqual([l for l in between if b"FAKE" in l], [], text)
            self.assertEqual(noop, b"OK", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
