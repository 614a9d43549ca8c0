#!/usr/bin/env python3
"""Mailbox relay under faults (issue 12 items 3 and 5, docs/mailbox-relay.md
§3.3): a client that cannot follow referrals (Python imaplib) logged in at
the front, carol's home server, with mailbox_relay = yes in the lab's
settings file (rewritten per test, restored afterwards: RUN_SERIAL).

- an owning server stopped mid-session: its mailbox answers NO [UNAVAILABLE]
  while INBOX and another owner's mailbox keep working in the same session;
  restarted: the same session reaches the mailbox again, without a new login.
  The owner is a Dovecot this test starts, stops and restarts itself (on
  home1's address, a free port, with the lab's relay master user), so the
  shared lab's processes are never touched;
- an owner that accepts the TCP connection and never answers (a socket the
  test holds): NO [UNAVAILABLE] within mailbox_relay_timeout, not after
  imapc's 5 minutes (Dovecot 2.3: its fixed 30 s connect + login timeout);
- TLS to the owner: STARTTLS on the lab home2's IMAP port and implicit TLS
  on its TLS port, checked against the lab CA (mailbox_relay_tls_ca_file);
  home2 logs the relay's login as TLS.  A CA that did not sign home2's
  certificate: NO [UNAVAILABLE];
- the bound mailbox_relay_max_mailboxes: beyond it NO [LIMIT] with a text
  and a warning in the front's log; relayed mailboxes keep working;
- a directory entry that cannot be relayed (its URL's mailbox ends with
  '/'): the client's name below it, with CR, LF and ESC in it, is logged
  escaped (\\xHH), never as a line of its own, and the NO repeats it with
  '?' for them.
"""
import base64
import imaplib
import os
import re
import shutil
import socket
import sys
import time
import unittest

from mailbox_support import replace_file
from relay_support import PROJECTS, RelayTestCase, add_remote_mailbox, free_port, logout, ok

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lab"))
import lab_dovecot  # noqa: E402
import lab_tls  # noqa: E402
from dovecot_version import is_24  # noqa: E402

RESTART = "Shared/RelayRestart"   # on this test's own owner
BROKEN = "Shared/RelayBroken"     # its URL's mailbox ends with '/': cannot be relayed
HANG = "Shared/RelayHang"         # on a socket that never answers
RELAY_SOURCE = "127.0.0.1"        # where the front's relay connects from
TIMEOUT = 4                       # mailbox_relay_timeout of these tests (seconds)
# Dovecot 2.3's imapc has no setting for its connect + login timeout
# (IMAPC_DEFAULT_CONNECT_TIMEOUT_MSECS, 30 s); 2.4's
# imapc_connection_timeout_interval gets mailbox_relay_timeout.
HANG_BOUND = TIMEOUT if is_24() else 30


def subjects(m):
    data = ok(m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    return [item[1].strip() for item in data if isinstance(item, tuple)]


class RelayFaults(RelayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()  # the lab, the settings file and its original
        try:
            cls._start_owner()
            cls.hang = socket.socket()
            cls.hang.bind((cls.lab.home1, 0))
            cls.hang.listen(16)  # the kernel accepts; nobody ever answers
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()  # the original settings file
        if getattr(cls, "hang", None) is not None:
            cls.hang.close()
        if getattr(cls, "owner", None) is not None:
            left = cls.owner.stop()
            if not left and not os.environ.get("DREF_KEEP_TEST_DIRS"):
                shutil.rmtree(cls.owner.dir, ignore_errors=True)

    @classmethod
    def _start_owner(cls):
        """carol's Dovecot with a mailbox Shared/RelayRestart, accepting the relay's
        master user (lab's template, home1's address, a free port)."""
        e = cls.lab.env
        d = os.path.join(os.path.dirname(os.environ["DREF_LAB_ENV"]), "relay-owner")
        shutil.rmtree(d, ignore_errors=True)
        user = cls.lab.user("LOCAL")
        cls.owner = lab_dovecot.DovecotInstance("relayowner", d, cls.lab.home1,
                                                free_port(cls.lab.home1), [user])
        master = os.path.join(d, "master-users")
        cls.owner.prepare(trusted=cls.lab.front, include=lab_dovecot.conf_master_passdb(master))
        with open(master, "w", encoding="utf-8") as f:
            # The master user only from the front, as docs/security.md
            # advises: on loopback the front's imapc connects from 127.0.0.1
            # (the kernel's source for any 127.0.0.x), not from its listener.
            f.write("%s:{PLAIN}%s::::::allow_real_nets=%s/32\n"
                    % (e["RELAY_MASTER_USER"], e["RELAY_MASTER_PASS"], RELAY_SOURCE))
        os.chmod(master, 0o644)
        cls.owner.add_mailbox(user[0], RESTART, "Restart owner's message")
        cls.owner.finish_prepare()
        cls.owner.start()

    def settings(self, extra=""):
        """The lab's settings file with the relay on; new sessions read it."""
        e = self.lab.env
        replace_file(self.path, self.original.rstrip("\n") + "\n# relay faults test\n"
                     "mailbox_referral_mode = opt-in\nmailbox_relay = yes\n"
                     "mailbox_relay_master_user = %s\nmailbox_relay_master_password = %s\n"
                     "mailbox_relay_timeout = %ds\n%s"
                     % (e["RELAY_MASTER_USER"], e["RELAY_MASTER_PASS"], TIMEOUT, extra))

    def front(self):
        m = super().front()
        m.sock.settimeout(90)  # a hanging owner holds a SELECT up to 2 x 30 s
        return m

    def assert_unavailable(self, result):
        typ, data = result
        self.assertEqual(typ, "NO", data)
        self.assertRegex(data[0], rb"^\[UNAVAILABLE\] ")

    def assert_rest_of_session_works(self, m):
        self.assertTrue(ok(m.select("INBOX"))[0].isdigit())
        self.assertRegex(ok(m.status(PROJECTS, "(MESSAGES)"))[0], rb"\(MESSAGES \d+\)")

    def restart_entry(self):
        add_remote_mailbox(self, self.lab, RESTART, self.owner.addr, self.owner.port)

    def test_owner_stopped_and_restarted_mid_session(self):
        self.settings()
        self.restart_entry()
        m = self.front()
        self.assertEqual(ok(m.select(RESTART))[0], b"1")
        self.assertEqual(subjects(m), [b"Subject: Restart owner's message"])
        ok(m.status(PROJECTS, "(MESSAGES)"))  # a second owner in the same session
        idle = self.front()
        self.assertEqual(ok(idle.select(RESTART))[0], b"1")

        self.owner.stop()
        try:
            # The selected relayed mailbox lost its server.  Whatever imapc
            # answers for it, the session must stay usable.
            typ, data = m.noop()
            print("NOOP in the relayed mailbox after its owner stopped: %s %r %r"
                  % (typ, data, m.response("NO")), file=sys.stderr)
            self.assertIn(typ, ("OK", "NO"))
            self.assert_unavailable(m.select(RESTART))
            self.assert_unavailable(m.status(RESTART, "(MESSAGES)"))
            self.assert_rest_of_session_works(m)
        finally:
            self.owner.start()
        # Same session, no new login: the relay connects again.
        self.assertEqual(ok(m.select(RESTART))[0], b"1")
        self.assertEqual(subjects(m), [b"Subject: Restart owner's message"])
        self.assertEqual(ok(m.status(RESTART, "(MESSAGES)"))[0], b"Shared/RelayRestart (MESSAGES 1)")
        self.assert_rest_of_session_works(m)

        # A second session kept the mailbox selected through the outage and
        # sent nothing: what it gets without a new SELECT (printed: imapc
        # does not re-SELECT by itself, docs/mailbox-relay.md §7), and that
        # it stays usable.
        direct = imaplib.IMAP4(self.owner.addr, self.owner.port, timeout=30)
        self.addCleanup(logout, direct)
        ok(direct.login(*self.lab.user("LOCAL")))
        ok(direct.append(RESTART, None, None, b"Subject: after the restart\r\n\r\nx\r\n"))
        for command in ("NOOP", "FETCH"):
            typ, data = idle.noop() if command == "NOOP" else idle.fetch("1:*", "(FLAGS)")
            print("%s in the mailbox selected before the outage, no new SELECT: %s %r, EXISTS %r"
                  % (command, typ, data, idle.response("EXISTS")[1]), file=sys.stderr)
            self.assertIn(typ, ("OK", "NO"))
        self.assertEqual(ok(idle.select(RESTART))[0], b"2")
        self.assertTrue(ok(idle.select("INBOX"))[0].isdigit())

    def master_login_from(self, source):
        """SASL PLAIN as carol, authenticated as the relay's master user, at
        this test's owner from the address `source`: the tagged answer."""
        e = self.lab.env
        token = base64.b64encode(("%s\0%s\0%s" % (self.lab.user("LOCAL")[0],
                                                    e["RELAY_MASTER_USER"],
                                                    e["RELAY_MASTER_PASS"])).encode()).decode()
        with socket.create_connection((self.owner.addr, self.owner.port), timeout=15,
                                      source_address=(source, 0)) as s:
            f = s.makefile("rb")
            f.readline()
            s.sendall(("a AUTHENTICATE PLAIN %s\r\n" % token).encode())
            while True:
                line = f.readline()
                if not line or line.startswith(b"a "):
                    return line.rstrip(b"\r\n")

    def test_master_user_accepted_only_from_the_front(self):
        # allow_real_nets on the owner's master passdb line (docs/security.md).
        self.assertRegex(self.master_login_from(RELAY_SOURCE), rb"^a OK ")
        self.assertRegex(self.master_login_from(self.lab.home2), rb"^a NO ")

    def test_owner_that_never_answers_times_out(self):
        self.settings()
        add_remote_mailbox(self, self.lab, HANG, self.lab.home1, self.hang.getsockname()[1])
        m = self.front()
        start = time.monotonic()
        self.assert_unavailable(m.select(HANG))
        elapsed = time.monotonic() - start
        print("SELECT of a mailbox whose owner never answers: NO [UNAVAILABLE] after %.1f s "
              "(mailbox_relay_timeout = %d s, bound %d s)" % (elapsed, TIMEOUT, HANG_BOUND),
              file=sys.stderr)
        # imapc may try once more after the timeout (imapc_connection_retry_count).
        self.assertLess(elapsed, 2 * HANG_BOUND + 5)
        self.assertGreaterEqual(elapsed, min(TIMEOUT, HANG_BOUND) - 1)
        self.assert_rest_of_session_works(m)

    def tls_select(self, extra, log_name="HOME2_LOG"):
        self.settings(extra)
        offset = self.lab.log_size(log_name)
        m = self.front()
        return m, m.select(PROJECTS, readonly=True), offset

    def test_starttls_and_implicit_tls_to_the_owner(self):
        ca = self.lab.env["LAB_CA_FILE"]
        user = self.lab.user("LOCAL")[0]
        # 2.3 "Login: user=...", 2.4 "Logged in: user=..."
        login = (r"Master user logging in as %s\n[^\n]*(?:Login|Logged in): user=<%s>, "
                 r"method=PLAIN, rip=%s, [^\n]*, TLS, " % (user, user, re.escape(RELAY_SOURCE)))
        for extra in ("mailbox_relay_tls = starttls\nmailbox_relay_tls_ca_file = %s\n" % ca,
                      "mailbox_relay_tls = tls\nmailbox_relay_tls_port = %s\n"
                      "mailbox_relay_tls_ca_file = %s\n" % (self.lab.env["HOME_TLS_PORT"], ca)):
            with self.subTest(extra=extra.splitlines()[0]):
                m, result, offset = self.tls_select(extra)
                self.assertGreater(int(ok(result)[0]), 0)
                self.lab.wait_log(offset, login, "HOME2_LOG")
                self.assert_rest_of_session_works(m)

    def test_tls_with_a_ca_that_did_not_sign_the_owner(self):
        d = os.path.join(os.path.dirname(os.environ["DREF_LAB_ENV"]), "relay-other-ca")
        shutil.rmtree(d, ignore_errors=True)
        self.addCleanup(shutil.rmtree, d, True)
        other = lab_tls.make_ca(d, "not the lab CA")
        os.chmod(d, 0o755)
        m, result, _ = self.tls_select("mailbox_relay_tls = starttls\n"
                                       "mailbox_relay_tls_ca_file = %s\n" % other["cert"])
        self.assert_unavailable(result)
        # STATUS meets the failed TLS handshake too (imapc's list connection).
        self.assert_unavailable(m.status(PROJECTS, "(MESSAGES)"))
        self.assertTrue(ok(m.select("INBOX"))[0].isdigit())
        # mailbox_relay_tls_verify = no: the same certificate is accepted
        # (testing only; 2.3 imapc_ssl_verify, 2.4 ssl_client_require_valid_cert).
        _, result, _ = self.tls_select("mailbox_relay_tls = starttls\n"
                                       "mailbox_relay_tls_ca_file = %s\n"
                                       "mailbox_relay_tls_verify = no\n" % other["cert"])
        self.assertGreater(int(ok(result)[0]), 0)

    def test_bound_on_relayed_mailboxes(self):
        self.settings("mailbox_relay_max_mailboxes = 1\n")
        self.restart_entry()
        offset = self.lab.log_size()
        m = self.front()
        self.assertGreater(int(ok(m.select(PROJECTS, readonly=True))[0]), 0)
        typ, data = m.select(RESTART)
        self.assertEqual(typ, "NO", data)
        self.assertRegex(data[0], rb"^\[LIMIT\] Too many remote mailboxes in use in this session")
        self.lab.wait_log(offset, r"mailbox relay: user=%s mailbox=%s not relayed: the session "
                          r"already relays 1 remote mailboxes \(mailbox_relay_max_mailboxes\)"
                          % (self.lab.user("LOCAL")[0], RESTART))
        # APPEND reads its literal whatever the answer: the connection stays in step.
        typ, data = m.append(RESTART, None, None, b"Subject: over the bound\r\n\r\nx\r\n")
        self.assertEqual(typ, "NO", data)
        self.assertRegex(data[0], rb"^\[LIMIT\] ")
        # The entry already relayed keeps working, and so does the rest.
        self.assertGreater(int(ok(m.select(PROJECTS, readonly=True))[0]), 0)
        self.assertTrue(ok(m.select("INBOX"))[0].isdigit())

    def test_client_name_below_a_broken_entry_is_logged_escaped(self):
        self.settings()
        add_remote_mailbox(self, self.lab, BROKEN, self.lab.home2, self.lab.home_port,
                           remote=BROKEN + "/")
        offset = self.lab.log_size()
        m = self.front()
        # Modified UTF-7 "&AA0ACgAb-" is CR LF ESC (U+000D U+000A U+001B):
        # Dovecot decodes it into the name (only printable ASCII may not be
        # encoded), which then reaches the relay's log line.
        typ, data = m.select('"%s/&AA0ACgAb-FAKE injected line"' % BROKEN)
        self.assertEqual(typ, "NO", data)
        # Nor do they reach the client's own reply as they are (the name
        # repeated in "Mailbox doesn't exist: ..." ended the line early).
        self.assertRegex(data[0], rb"doesn't exist: %s/\?\?\?FAKE injected line" % BROKEN.encode())
        text = self.lab.wait_log(
            offset, r"mailbox relay: user=%s mailbox=%s/\\x0D\\x0A\\x1BFAKE injected line cannot "
            r"be relayed: the owner's mailbox name is empty or starts or ends with '/'"
            % (self.lab.user("LOCAL")[0], BROKEN))
        for line in text.splitlines():
            self.assertFalse(line.startswith("FAKE"), line)
        self.assertNotIn("\x1b", text)
        self.assertTrue(ok(m.select("INBOX"))[0].isdigit())


if __name__ == "__main__":
    unittest.main(verbosity=2)
