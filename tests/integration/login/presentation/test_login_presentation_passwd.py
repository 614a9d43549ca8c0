"""Login referral presentation, independent of LDAP and of the passdb driver.

A private front Dovecot loads the referral login plugin from the build tree;
its passwd-file passdb returns the fields the passdb driver would set for a
referred user (`nologin host= port= destuser= reason= nodelay`), so this test
pins what the plugin writes on the wire for every shape of input.  Exact
bytes are asserted.

Requirements: R2221-1, R2221-5, R2221-10, R2221-7, R2221-9, R2221-12, R2221-14,
R2221-15, R5092-1, R5092-6, R5092-11, R3501-1, R3501-2, D-1, D-2, D-3, D-4,
D-12, D-13, D-14, D-17.
"""
import base64
import os
import time
import unittest

from presentation_support import (
    REPLY_METRIC, SETTINGS_BASE, PluginFront, check_referral_line, metric_counts)
from dovecot_version import is_24, login_ok_text  # tests/support, on sys.path through the module above
from referral_support import fresh_source

TEXT = "Your mailbox moved to your home server."
UNAVAILABLE = b"NO [UNAVAILABLE] Your home server cannot be reached from here."
# Dovecot 2.4's imap-login refuses an auth reply with an empty host itself,
# before any plugin sees the reply (login-common: "Auth service returned
# invalid host value"), with its own temporary failure: still no URL.
EMPTY_HOST_24 = b"NO [UNAVAILABLE] Temporary authentication failure."
AUTHFAILED = b"NO [AUTHENTICATIONFAILED] Authentication failed."

PASSWD = [
    "alice:{PLAIN}pw-alice::::::",
    "bob:{PLAIN}pw-bob::::::nologin=y nodelay=y host=home.example.test port=10143",
    "bob143:{PLAIN}pw-bob143::::::nologin=y nodelay=y host=home.example.test port=143",
    "carol:{PLAIN}pw-carol::::::nologin=y nodelay=y host=192.0.2.7 port=10143 reason=Moved_to_B",
    # 2.3's passwd-file %-expands extra fields (%% is one literal %); 2.4's
    # expands only %{...}, so there a lone % is already literal.
    "enc:{PLAIN}pw-enc::::::nologin=y nodelay=y host=home.example.test destuser=j\u00fcrgen@ex;a/b%sc+d"
    % ("%" if is_24() else "%%"),
    "v6:{PLAIN}pw-v6::::::nologin=y nodelay=y host=::1 port=10143",
    "nohost:{PLAIN}pw-nohost::::::nologin=y nodelay=y host=",
    "hostile:{PLAIN}pw-hostile::::::nologin=y nodelay=y host=evil]host.example",
    # The same referral without nodelay: a referral is a successful passdb
    # lookup with nologin, so no failure delay applies either way (D-14).
    "plain:{PLAIN}pw-plain::::::nologin=y host=home.example.test port=10143",
    # host without nologin/proxy: Dovecot 2.3.19.1 alone ignores host and
    # logs in locally; the plugin adds the OK referral (docs/ok-referral.md).
    "hostonly:{PLAIN}pw-hostonly::::::host=home.example.test port=10143",
    "hostonlyv6:{PLAIN}pw-hostonlyv6::::::host=::1",
]

FAST = 0.5   # a referral answers well within this (D-14)
SLOW = 1.5   # a real failure waits auth_failure_delay (2 s by default)


def b64(s):
    return base64.b64encode(s.encode("utf-8"))


def authenticate_login(client, tag, user, password):
    """AUTHENTICATE LOGIN: the second SASL mechanism of the lab."""
    client.send_raw(tag.encode() + b" AUTHENTICATE LOGIN\r\n")
    client.expect_continuation()
    client.send_raw(b64(user) + b"\r\n")
    client.expect_continuation()
    client.send_raw(b64(password) + b"\r\n")
    return client.read_until_tagged(tag)


class StarFront(unittest.TestCase):
    """Default settings: ;AUTH=* after LOGIN and AUTHENTICATE (D-3)."""

    @classmethod
    def setUpClass(cls):
        cls.front = PluginFront("lp-star", PASSWD,
                                SETTINGS_BASE + "referral_text = %s\n" % TEXT)
        cls.front.start()

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()

    def referral(self, tag, user, port_part=":10143"):
        return ("%s NO [REFERRAL imap://%s;AUTH=*@home.example.test%s/] %s"
                % (tag, user, port_part, TEXT)).encode()

    def test_login_gets_star_referral_R2221_7_D3(self):
        with self.front.connect() as c:
            _, tagged = c.login("a1", "bob", "pw-bob")
            self.assertEqual(tagged, self.referral("a1", "bob"))
            check_referral_line(tagged)
        self.front.wait_log("; referral imap://bob;AUTH=*@home.example.test:10143/ (LOGIN)")

    def test_authenticate_plain_sasl_ir_gets_star_D3(self):
        with self.front.connect() as c:
            _, tagged = c.authenticate_plain("a1", "bob", "pw-bob", sasl_ir=True)
            self.assertEqual(tagged, self.referral("a1", "bob"))
            check_referral_line(tagged)

    def test_authenticate_plain_without_sasl_ir_gets_star_D3(self):
        with self.front.connect() as c:
            _, tagged = c.authenticate_plain("a1", "bob", "pw-bob", sasl_ir=False)
            self.assertEqual(tagged, self.referral("a1", "bob"))
            check_referral_line(tagged)

    def test_authenticate_login_gets_star_D3(self):
        with self.front.connect() as c:
            _, tagged = authenticate_login(c, "a1", "bob", "pw-bob")
            self.assertEqual(tagged, self.referral("a1", "bob"))
            check_referral_line(tagged)

    def test_default_port_is_omitted_R5092_1(self):
        with self.front.connect() as c:
            _, tagged = c.login("a1", "bob143", "pw-bob143")
            self.assertEqual(tagged, self.referral("a1", "bob143", port_part=""))
            check_referral_line(tagged)

    def test_passdb_reason_and_ipv4_host(self):
        with self.front.connect() as c:
            _, tagged = c.login("a1", "carol", "pw-carol")
            self.assertEqual(tagged, b"a1 NO [REFERRAL imap://carol;AUTH=*@192.0.2.7:10143/] Moved_to_B")
            check_referral_line(tagged)

    def test_destuser_is_percent_encoded_uppercase_D12_R5092_11(self):
        # Dovecot alone writes j%c3%bcrgen%40ex%3ba%2fb%25c+d (lower-case hex).
        with self.front.connect() as c:
            _, tagged = c.login("a1", "enc", "pw-enc")
            self.assertEqual(tagged, ("a1 NO [REFERRAL imap://j%C3%BCrgen%40ex%3Ba%2Fb%25c+d;AUTH=*"
                                      "@home.example.test/] " + TEXT).encode())
            check_referral_line(tagged)

    def test_unusable_hosts_never_reach_the_wire_D4_D17(self):
        for user in ("v6", "nohost", "hostile"):
            with self.subTest(user=user), self.front.connect() as c:
                _, tagged = c.login("a1", user, "pw-" + user)
                self.assertEqual(tagged, b"a1 " + (EMPTY_HOST_24 if is_24() and user == "nohost"
                                                   else UNAVAILABLE))
                # The connection stays usable: a local user can log in.
                _, tagged = c.login("a2", "alice", "pw-alice")
                self.assertTrue(tagged.startswith(b"a2 OK "), tagged)
        log = self.front.wait_log("no login referral for user \"hostile\"")
        self.assertIn("no login referral for user \"v6\": host \"::1\" refused", log)
        if is_24():
            self.assertIn("Auth service returned invalid host value '': Empty host: user=<nohost>",
                          log)
        else:
            self.assertIn("no login referral for user \"nohost\": host \"\" refused", log)
        self.assertIn("host \"evil]host.example\" refused", log)
        self.assertNotIn("REFERRAL imap://v6", log)

    # The tests that fail a login connect from an address of their own
    # (fresh_source): Dovecot 2.3's auth penalty, kept per client IP, would
    # otherwise delay the next tests' logins from 127.0.0.1 by seconds.
    def test_wrong_password_and_unknown_user_identical_no_referral_R2221_15(self):
        # One address each: on one, the second failure also waited out the
        # first one's penalty (2.3: 8 s for the two, 4 s this way).
        with self.front.connect(source=fresh_source()) as c:
            _, wrong = c.login("a1", "bob", "not-the-password")
        with self.front.connect(source=fresh_source()) as c:
            _, unknown = c.login("a1", "nosuchuser", "pw-bob")
        self.assertEqual(wrong, b"a1 " + AUTHFAILED)
        self.assertEqual(unknown, wrong)

    def test_three_referrals_fast_and_identical_D14(self):
        for user in ("bob", "plain"):
            answers, times = [], []
            with self.subTest(user=user), self.front.connect() as c:
                for i in range(3):
                    t0 = time.monotonic()
                    _, tagged = c.login("r%d" % i, user, "pw-" + user)
                    times.append(time.monotonic() - t0)
                    answers.append(tagged.split(b" ", 1)[1])
                    check_referral_line(tagged)
                self.assertEqual(len(set(answers)), 1, answers)
                self.assertEqual(answers[0], self.referral("x", user).split(b" ", 1)[1])
                for t in times:
                    self.assertLess(t, FAST, "referral took %.3fs: %r" % (t, times))

    def test_delay_control_wrong_password_is_slow(self):
        # Proves the D-14 measurement can fail: a real authentication failure
        # on this front waits for Dovecot's auth_failure_delay.  (alice: a
        # passwd line without nodelay; 2.4 applies a line's nodelay even to
        # a wrong password.)
        with self.front.connect(source=fresh_source()) as c:
            t0 = time.monotonic()
            _, tagged = c.login("a1", "alice", "wrong")
            elapsed = time.monotonic() - t0
        self.assertEqual(tagged, b"a1 " + AUTHFAILED)
        self.assertGreaterEqual(elapsed, SLOW, "no failure delay seen: %.3fs" % elapsed)

    def test_state_after_referral_is_not_authenticated_R2221_9_R2221_1(self):
        with self.front.connect() as c:
            self.assertIn(b" LOGIN-REFERRALS ", c.greeting + b" ")
            untagged, tagged = c.command("c1", "CAPABILITY")
            self.assertEqual(tagged, b"c1 OK Pre-login capabilities listed, post-login capabilities have more.")
            self.assertIn(b" LOGIN-REFERRALS ", untagged[0] + b" ")
            _, tagged = c.login("a1", "bob", "pw-bob")
            self.assertEqual(tagged, self.referral("a1", "bob"))
            # Still Not Authenticated: pre-login capabilities, no SELECT.
            untagged, tagged = c.command("c2", "CAPABILITY")
            self.assertTrue(tagged.startswith(b"c2 OK Pre-login"), tagged)
            self.assertIn(b" AUTH=PLAIN", untagged[0])
            _, tagged = c.command("s1", "SELECT INBOX")
            self.assertTrue(tagged.startswith(b"s1 BAD "), tagged)
            # ... and a retry as a local user logs in (R2221-9: no lockout).
            # The client asked CAPABILITY before, so Dovecot sends the
            # post-login capabilities untagged and a plain tagged OK.
            untagged, tagged = c.login("a2", "alice", "pw-alice")
            self.assertEqual(tagged, b"a2 OK Logged in")
            self.assertTrue(untagged[-1].startswith(b"* CAPABILITY "), untagged)
            self.assertIn(b" LOGIN-REFERRALS ", untagged[-1])
            untagged, tagged = c.command("c3", "CAPABILITY")
            self.assertTrue(tagged.startswith(b"c3 OK Capability completed"), tagged)
            self.assertIn(b" LOGIN-REFERRALS ", untagged[0] + b" ")
            self.assertNotIn(b"AUTH=PLAIN", untagged[0])

    def test_host_without_nologin_is_ok_referral_R2221_10_D13(self):
        # A bare passdb host (no nologin, no proxy) is a local login with an
        # OK referral (docs/ok-referral.md).  Exactly one tagged completion,
        # without a CAPABILITY code; Dovecot's own "Logged in" line follows
        # untagged; the session is authenticated here.
        with self.front.connect() as c:
            untagged, tagged = c.login("a1", "hostonly", "pw-hostonly")
            self.assertEqual(untagged, [])
            self.assertEqual(tagged, ("a1 OK [REFERRAL imap://hostonly;AUTH=*@home.example.test:10143/] "
                                      + TEXT).encode())
            check_referral_line(tagged)
            untagged, tagged = c.command("n1", "NOOP")
            self.assertTrue(tagged.startswith(b"n1 OK NOOP completed"), tagged)
            self.assertTrue(untagged and untagged[0].startswith(b"* OK [CAPABILITY IMAP4rev1 "), untagged)
            self.assertTrue(untagged[0].endswith(b"] Logged in"), untagged)
            self.assertIn(b" LOGIN-REFERRALS ", untagged[0])
            self.assertFalse([u for u in untagged if u.startswith(b"a1 ")], untagged)
            _, tagged = c.command("s1", "SELECT INBOX")
            self.assertTrue(tagged.startswith(b"s1 OK [READ-WRITE]"), tagged)
        self.front.wait_log("; OK referral imap://hostonly;AUTH=*@home.example.test:10143/ (LOGIN)")

    def test_ok_referral_with_untagged_capability_client_D13(self):
        # A client that asked CAPABILITY first gets Dovecot's capabilities
        # untagged ("* CAPABILITY" + "* OK Logged in"), still after the one
        # tagged OK [REFERRAL ...].
        with self.front.connect() as c:
            c.command("c1", "CAPABILITY")
            _, tagged = c.authenticate_plain("a1", "hostonly", "pw-hostonly", sasl_ir=False)
            self.assertEqual(tagged, ("a1 OK [REFERRAL imap://hostonly;AUTH=*@home.example.test:10143/] "
                                      + TEXT).encode())
            untagged, tagged = c.command("n1", "NOOP")
            self.assertTrue(tagged.startswith(b"n1 OK"), tagged)
            self.assertTrue(untagged[0].startswith(b"* CAPABILITY IMAP4rev1 "), untagged)
            self.assertEqual(untagged[1], b"* OK Logged in")

    def test_ok_referral_unusable_host_logs_in_without_url_D4(self):
        with self.front.connect() as c:
            untagged, tagged = c.login("a1", "hostonlyv6", "pw-hostonlyv6")
            self.assertEqual(untagged, [])
            self.assertTrue(tagged.startswith(b"a1 OK [CAPABILITY "), tagged)
            self.assertNotIn(b"[REFERRAL", tagged)
        self.front.wait_log("host \"::1\" refused (host is not a DNS name or IPv4 address); "
                            "logging in locally without OK referral")


class MechanismFront(unittest.TestCase):
    """auth_in_url = mechanism: AUTHENTICATE names its mechanism, LOGIN
    keeps ;AUTH=* (D-3)."""

    @classmethod
    def setUpClass(cls):
        cls.front = PluginFront("lp-mech", PASSWD,
                                SETTINGS_BASE + "auth_in_url = mechanism\n"
                                "referral_text = %s\n" % TEXT)
        cls.front.start()

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()

    def test_login_still_star(self):
        with self.front.connect() as c:
            _, tagged = c.login("a1", "bob", "pw-bob")
        self.assertEqual(tagged, ("a1 NO [REFERRAL imap://bob;AUTH=*@home.example.test:10143/] "
                                  + TEXT).encode())

    def test_authenticate_plain_names_plain(self):
        for sasl_ir in (True, False):
            with self.subTest(sasl_ir=sasl_ir), self.front.connect() as c:
                _, tagged = c.authenticate_plain("a1", "bob", "pw-bob", sasl_ir=sasl_ir)
                self.assertEqual(tagged, ("a1 NO [REFERRAL imap://bob;AUTH=PLAIN@home.example.test:10143/] "
                                          + TEXT).encode())
                check_referral_line(tagged)

    def test_authenticate_login_names_login(self):
        with self.front.connect() as c:
            _, tagged = authenticate_login(c, "a1", "bob", "pw-bob")
        self.assertEqual(tagged, ("a1 NO [REFERRAL imap://bob;AUTH=LOGIN@home.example.test:10143/] "
                                  + TEXT).encode())
        check_referral_line(tagged)


class OkReferralHandOffFailure(unittest.TestCase):
    """After the tagged OK [REFERRAL ...] only the hand-off to the imap
    process can fail (here: mail_max_userip_connections).  Dovecot's own
    answer would be a second tagged NO; the plugin makes it an untagged BYE,
    so the command still has exactly one tagged completion (D-13)."""

    @classmethod
    def setUpClass(cls):
        cls.front = PluginFront("lp-okfail", PASSWD, SETTINGS_BASE + "referral_text = %s\n" % TEXT,
                                extra_conf="mail_max_userip_connections = 1\n")
        cls.front.start()

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()

    def test_second_session_gets_bye_not_a_second_tagged_reply_D13(self):
        ok = ("a1 OK [REFERRAL imap://hostonly;AUTH=*@home.example.test:10143/] " + TEXT).encode()
        with self.front.connect() as first:
            _, tagged = first.login("a1", "hostonly", "pw-hostonly")
            self.assertEqual(tagged, ok)
            first.command("n1", "NOOP")  # the first session is up in its imap process
            with self.front.connect() as second:
                _, tagged = second.login("a1", "hostonly", "pw-hostonly")
                self.assertEqual(tagged, ok)
                rest = []
                try:
                    while True:
                        rest.append(second.read_line(timeout=5))
                except Exception:
                    pass
                self.assertEqual(len(rest), 1, rest)
                self.assertTrue(rest[0].startswith(b"* BYE [UNAVAILABLE] Maximum number of connections"),
                                rest)


class ProxyMaybeToSelf(unittest.TestCase):
    """proxy_maybe whose host is this very front: Dovecot's auth process drops
    host/port/destuser and logs in locally.  The plugin must not turn that
    into an OK referral to itself (R2221-3, D-11)."""

    @classmethod
    def setUpClass(cls):
        cls.front = PluginFront("lp-self", [], SETTINGS_BASE)
        with open(os.path.join(cls.front.dir, "passwd"), "w", encoding="utf-8") as f:
            f.write("selfie:{PLAIN}pw-selfie::::::proxy_maybe=y host=%s port=%d\n"
                    % (cls.front.addr, cls.front.port))
        cls.front.start()

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()

    def test_proxy_maybe_to_self_is_plain_local_login_R2221_3(self):
        with self.front.connect() as c:
            untagged, tagged = c.login("a1", "selfie", "pw-selfie")
        self.assertEqual(untagged, [])
        self.assertTrue(tagged.startswith(b"a1 OK [CAPABILITY "), tagged)
        self.assertNotIn(b"[REFERRAL", tagged)
        log = self.front.wait_log(login_ok_text("selfie"))
        self.assertNotIn("login referral", log)
        self.assertNotRegex(log, r"; (OK )?referral imap://")


class ReplyEvents(unittest.TestCase):
    """Event referral_login_reply (category referral): what each client was
    told, countable with a Dovecot metric (issue 3 item 6)."""

    @classmethod
    def setUpClass(cls):
        cls.front = PluginFront("lp-events", PASSWD, SETTINGS_BASE, extra_conf=REPLY_METRIC)
        cls.front.start()

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()

    def test_each_reply_is_one_event(self):
        with self.front.connect() as c:
            c.login("a1", "bob", "pw-bob")
            c.authenticate_plain("a2", "bob", "pw-bob")
            c.login("a3", "v6", "pw-v6")
            c.login("a4", "bob", "wrong")          # a failure: no event of ours
        # From another address: the failure's auth penalty stays with the first.
        with self.front.connect(source=fresh_source()) as c:
            c.login("a1", "hostonly", "pw-hostonly")
        deadline = time.monotonic() + 5
        while True:
            counts = metric_counts(self.front)
            if counts.get("referral_login_reply", 0) >= 4 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(counts.get("referral_login_reply"), 4, counts)
        self.assertEqual(counts.get("referral_login_reply_no_LOGIN"), 1, counts)
        self.assertEqual(counts.get("referral_login_reply_no_AUTHENTICATE"), 1, counts)
        self.assertEqual(counts.get("referral_login_reply_unavailable_LOGIN"), 1, counts)
        self.assertEqual(counts.get("referral_login_reply_ok_LOGIN"), 1, counts)



class ReplyEventLogFilter(unittest.TestCase):
    """The NO referral's referral_login_reply is a debug event, built only
    when a filter is set: a log_debug filter that selects it by a field of
    its own still gets it, complete (issue 13 item 3)."""

    @classmethod
    def setUpClass(cls):
        cls.front = PluginFront("lp-logdebug", PASSWD, SETTINGS_BASE,
                                extra_conf="log_debug = event=referral_login_reply AND reply=no "
                                           "AND command=LOGIN\n")
        cls.front.start()

    @classmethod
    def tearDownClass(cls):
        cls.front.stop()

    def test_log_debug_on_the_events_fields(self):
        with self.front.connect() as c:
            _, tagged = c.authenticate_plain("a1", "bob", "pw-bob")
            self.assertIn(b"NO [REFERRAL ", tagged)
            _, tagged = c.login("a2", "bob", "pw-bob")
            self.assertIn(b"NO [REFERRAL ", tagged)
        log = self.front.wait_log("Debug: login referral to imap://bob;AUTH=*@home.example.test:10143/")
        # Only the LOGIN: the filter's command=LOGIN saw the field.
        self.assertEqual(log.count("Debug: login referral to "), 1, log[-3000:])

if __name__ == "__main__":
    unittest.main(verbosity=2)
