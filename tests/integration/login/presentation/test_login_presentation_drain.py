"""Drain mode: a front that does not accept connections greets with
`* BYE [REFERRAL imap://;AUTH=*@<drain_host>[:port]/] <drain_text>` and closes
the connection; no command is ever processed (RFC 2221 §4.2).

The test starts its own second front Dovecot (rendered with the lab's
DovecotInstance, its own settings file with drain_host set), and stops it.

Requirements: R2221-6, R2221-7, R2221-8, R2221-13, R3501-5, R5092-1, D-1,
D-2, D-16.
"""
import socket
import time
import unittest

from presentation_support import (
    DRAIN_ADDR, REPLY_METRIC, SETTINGS_BASE, PluginFront, check_referral_line, closed_by_server,
    metric_counts)
from dovecot_version import login_end_prefix, login_ok_prefix  # tests/support, on sys.path through the module above
from lab_logs import wait_settled

PASSWD = ["alice:{PLAIN}pw-alice::::::"]
TEXT = "Maintenance: this server is closed, use other.example.test."


def wait_greeting(front, timeout=20.0):
    """The drained front never says '* OK': wait for any first line."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with front.connect(timeout=2.0) as c:
                return c.greeting
        except (OSError, Exception) as e:  # refused while starting, or closed
            last = e
            time.sleep(0.1)
    raise AssertionError("no greeting from %s:%d: %r\n%s"
                         % (front.addr, front.port, last, front.read_log()[-3000:]))


def read_all(sock, timeout=5.0):
    """Everything the server sends until it closes the connection.  A reset
    instead of a clean FIN fails the test: it can destroy the BYE line."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    raise AssertionError("connection still open after %.0fs; got %r" % (timeout, data))


class DrainWithPort(unittest.TestCase):
    GREETING = ("* BYE [REFERRAL imap://;AUTH=*@other.example.test:10143/] " + TEXT).encode()

    @classmethod
    def setUpClass(cls):
        cls.front = PluginFront("lp-drain", PASSWD, SETTINGS_BASE +
                                "drain_host = other.example.test\n"
                                "drain_port = 10143\n"
                                "drain_text = %s\n" % TEXT, addr=DRAIN_ADDR,
                                extra_conf=REPLY_METRIC)
        cls.front.start_unchecked()
        try:
            wait_greeting(cls.front)
        except BaseException:
            cls.front.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()

    def test_greeting_is_bye_referral_and_connection_closes_R2221_13(self):
        with self.front.connect() as c:
            self.assertEqual(c.greeting, self.GREETING)
            tag, cond, url, _ = check_referral_line(c.greeting)
            self.assertEqual((tag, cond), ("*", "BYE"))
            # D-16: no user is known yet; ;AUTH=* keeps clients from an
            # anonymous login (R2221-7, R5092-4).
            self.assertTrue(url.startswith("imap://;AUTH=*@"), url)
            self.assertTrue(closed_by_server(c), "connection stayed open after the BYE greeting")

    def test_login_is_never_processed_R2221_13(self):
        # The client does not wait for the greeting: LOGIN is already queued
        # when the server writes BYE.  Nothing but the greeting comes back,
        # and the connection ends with a clean close, not a reset that could
        # eat the BYE (repeated: the race is timing-dependent).
        for _ in range(5):
            with socket.create_connection((self.front.addr, self.front.port), timeout=5) as s:
                s.sendall(b"a1 LOGIN alice pw-alice\r\na2 CAPABILITY\r\n")
                time.sleep(0.2)  # the server has read nothing and must not close on unread input
                data = read_all(s)
            self.assertEqual(data, self.GREETING + b"\r\n")
        wait_settled(self.front.log)
        log = self.front.read_log()
        self.assertNotIn("user=<alice>", log)
        self.assertNotIn(login_ok_prefix(), log)

    def test_drain_is_counted_by_event(self):
        before = metric_counts(self.front).get("referral_login_reply_drain", 0)
        with self.front.connect() as c:
            closed_by_server(c)
        deadline = time.monotonic() + 5
        while metric_counts(self.front).get("referral_login_reply_drain", 0) <= before:
            self.assertLess(time.monotonic(), deadline, metric_counts(self.front))
            time.sleep(0.1)

    def test_log_says_why(self):
        with self.front.connect() as c:
            closed_by_server(c)
        log = self.front.wait_log(login_end_prefix() + " Drain mode: referred to other.example.test")
        self.assertIn("(drain mode)", log)  # the init line says the front drains


class DrainDefaultPort(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.front = PluginFront("lp-drain143", PASSWD, SETTINGS_BASE +
                                "drain_host = 192.0.2.9\n", addr=DRAIN_ADDR)
        cls.front.start_unchecked()
        try:
            cls.greeting = wait_greeting(cls.front)
        except BaseException:
            cls.front.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()

    def test_port_143_omitted_and_default_text_R5092_1(self):
        self.assertEqual(self.greeting,
                         b"* BYE [REFERRAL imap://;AUTH=*@192.0.2.9/] Server not accepting connections.")
        check_referral_line(self.greeting)


if __name__ == "__main__":
    unittest.main(verbosity=2)
