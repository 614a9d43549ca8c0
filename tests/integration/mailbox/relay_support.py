"""Helpers of the mailbox relay tests (issue 12, docs/mailbox-relay.md).  Not
a test.

RelayTestCase switches the lab's settings file to the relay (mailbox_relay =
yes, mailbox_referral_mode = opt-in, the lab's master user) for the test
class and restores it afterwards, also when a test fails (the tests that
use it are RUN_SERIAL).  The front is carol's home server; Shared/Projects
and Shared/Büro live in home2's public namespace, and home2 accepts the
relay's master user.
"""
import imaplib
import re
import socket
import unittest

from mailbox_support import Lab, clear_mailbox_cache, ldap_tool, replace_file

PROJECTS = "Shared/Projects"


def ok(result):
    typ, data = result
    if typ != "OK":
        raise AssertionError("IMAP command failed: %s %r" % (typ, data))
    return data


def messages(m):
    """UID -> Subject of the selected mailbox."""
    out = {}
    data = ok(m.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    for item in data:
        if not isinstance(item, tuple):
            continue
        uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
        out[uid] = item[1].strip()
    return out


def flags_of(m, uid):
    data = ok(m.uid("FETCH", str(uid), "(FLAGS)"))
    return b" ".join(d for d in data if isinstance(d, bytes))


def free_port(addr):
    """A port on addr where nothing listens (bound and released)."""
    with socket.socket() as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def add_remote_mailbox(testcase, lab, name, host, port, remote=None):
    """A directory entry `name` on imap://host:port/<remote> (default: the
    same name); removed again, with the front's mailbox cache files, at the
    test's cleanup."""
    e = lab.env
    dn = "imapMailboxName=%s,ou=mailboxes,%s" % (name, e["LDAP_BASE"])
    ldif = ("dn: %s\nobjectClass: imapRemoteMailbox\nimapMailboxName: %s\n"
            "imapMailboxURL: imap://%s:%d/%s\n"
            % (dn, name, host, port, name if remote is None else remote))
    rc, out = ldap_tool(lab, "ldapadd", ldif.encode())
    testcase.assertEqual(rc, 0, out)
    testcase.addCleanup(ldap_tool, lab, "ldapdelete", None, [dn])
    testcase.addCleanup(clear_mailbox_cache, lab)
    clear_mailbox_cache(lab)


def add_unreachable_remote_mailbox(testcase, lab, name):
    """A directory entry `name` whose owner does not listen (a free port on
    home1), as add_remote_mailbox."""
    add_remote_mailbox(testcase, lab, name, lab.home1, free_port(lab.home1))


def logout(m):
    try:
        m.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


class RelayTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()
        e = cls.lab.env
        cls.path = e["REFERRAL_SETTINGS"]
        with open(cls.path, "r", encoding="utf-8") as f:
            cls.original = f.read()
        if "mailbox_referral_mode" in cls.original or "mailbox_relay" in cls.original:
            raise RuntimeError("%s already sets the relay's keys: this test would duplicate them"
                               % cls.path)
        replace_file(cls.path, cls.original.rstrip("\n") + "\n# relay test\n"
                     "mailbox_referral_mode = opt-in\nmailbox_relay = yes\n"
                     "mailbox_relay_master_user = %s\nmailbox_relay_master_password = %s\n"
                     % (e["RELAY_MASTER_USER"], e["RELAY_MASTER_PASS"]))

    @classmethod
    def tearDownClass(cls):
        replace_file(cls.path, cls.original)

    def setUp(self):
        self.user, self.password = self.lab.user("LOCAL")  # carol, served by the front

    def front(self):
        """imaplib logged in at the front (a client that cannot follow referrals)."""
        m = imaplib.IMAP4(self.lab.front, self.lab.port, timeout=30)
        self.addCleanup(logout, m)
        ok(m.login(self.user, self.password))
        return m

    def home2(self):
        """carol's own session on the owning server, for comparison."""
        m = imaplib.IMAP4(self.lab.home2, self.lab.home_port, timeout=30)
        self.addCleanup(logout, m)
        ok(m.login(self.user, self.password))
        return m
