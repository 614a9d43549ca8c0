"""Login referral presentation end to end in the lab: real slapd, the passdb
driver deciding in the auth process, the login plugin writing the line.

Two users are added for the duration of the test (directory entry + the
front's passwd-file line) and removed afterwards:
  sue               imapReferralPolicy = suggest, mailHost = home1
  ute@example.test  imapReferralPolicy = refer, mailHost = home1 (a login
                    name that must be percent-encoded in the URL)
Clients connect from 127.0.0.37 (the LOGIN range), so Dovecot's per-IP auth
penalty of this test never touches another test's source address.

Requirements: R2221-1, R2221-5, R2221-7, R2221-8, R2221-10, R2221-12,
R2221-14, R5092-11, R3501-2, R3501-3, D-1, D-2, D-3, D-12, D-13, D-14.
"""
import os
import re
import socket
import subprocess
import time
import unittest

from presentation_support import (
    ImapClient, check_referral_line)
from dovecot_version import login_ok_log  # tests/support, on sys.path through the module above
import lab  # tests/lab, on sys.path through the module above

SOURCE_ADDR = os.environ.get("DREF_LOGIN_SOURCE_ADDR", "127.0.0.37")
DEFAULT_TEXT = "Your mailbox is on another server."
FAST = 0.5
ADDED_USERS = (("sue", "suggest"), ("ute@example.test", "refer"))


def ldap_entry(env, user, policy):
    uid = user.split("@")[0]
    return ("dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\n"
            "objectClass: inetLocalMailRecipient\nobjectClass: imapReferralAccount\n"
            "uid: %s\ncn: %s test user\nsn: %s\nmail: %s\nmailHost: %s\n"
            "imapReferralPolicy: %s\n\n"
            % (uid, env["LDAP_BASE"], uid, policy, policy,
               user if "@" in user else user + "@example.test", env["HOME1_ADDR"], policy))


def ldap_tool(env, argv, stdin=""):
    p = subprocess.run(argv + ["-x", "-H", env["LDAP_URI"], "-D", env["LDAP_ADMIN_DN"],
                               "-w", env["LDAP_ADMIN_PW"]],
                       input=stdin.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def referral_text(env):
    """referral_text of the lab's settings file, else the built-in default."""
    try:
        with open(env["REFERRAL_SETTINGS"], encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep and key.strip() == "referral_text":
                    return value.strip()
    except OSError:
        pass
    return DEFAULT_TEXT


class LabPresentation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env_path = os.environ.get("DREF_LAB_ENV")
        if not env_path:
            raise unittest.SkipTest("DREF_LAB_ENV not set (ctest sets it, with the lab fixture)")
        if not os.path.exists(env_path):
            raise RuntimeError("DREF_LAB_ENV=%s does not exist: is the lab running?" % env_path)
        cls.env = env = lab.read_env(env_path)
        if env.get("LAB_PLUGINS") == "none":
            raise RuntimeError("the lab runs without plugins: nothing to test")
        cls.text = referral_text(env)
        cls.home1 = "%s:%s" % (env["HOME1_ADDR"], env["HOME_PORT"])
        cls.passwd = os.path.join(os.path.dirname(env["FRONT_CONF"]), "passwd")
        with open(cls.passwd, encoding="utf-8") as f:
            cls.passwd_before = f.read()
        cls.added_dns = []
        try:
            for user, policy in ADDED_USERS:
                entry = ldap_entry(env, user, policy)
                rc, out = ldap_tool(env, ["ldapadd"], entry)
                if rc != 0:
                    raise RuntimeError("ldapadd %s: %s" % (user, out))
                cls.added_dns.append(entry.split("\n", 1)[0][4:])
            with open(cls.passwd, "a", encoding="utf-8") as f:
                for user, _ in ADDED_USERS:
                    f.write("%s:{PLAIN}pw-%s::::::\n" % (user, user.split("@")[0]))
        except BaseException:
            cls.restore()
            raise

    @classmethod
    def restore(cls):
        for dn in cls.added_dns:
            ldap_tool(cls.env, ["ldapdelete", dn])
        with open(cls.passwd, "w", encoding="utf-8") as f:
            f.write(cls.passwd_before)

    @classmethod
    def tearDownClass(cls):
        cls.restore()

    def connect(self, port_key="FRONT_PORT"):
        sock = socket.create_connection((self.env["FRONT_ADDR"], int(self.env[port_key])),
                                        timeout=10, source_address=(SOURCE_ADDR, 0))
        c = ImapClient(sock)
        c.greeting = c.read_line()
        return c

    def referral(self, tag, user_enc, cond="NO"):
        return ("%s %s [REFERRAL imap://%s;AUTH=*@%s/] %s"
                % (tag, cond, user_enc, self.home1, self.text)).encode()

    def test_login_refer_policy_R2221_12_D3(self):
        with self.connect() as c:
            _, tagged = c.login("a1", "rita", "pw-rita")
        self.assertEqual(tagged, self.referral("a1", "rita"))
        check_referral_line(tagged)

    def test_authenticate_plain_with_and_without_sasl_ir_D3_R2221_8(self):
        for sasl_ir in (True, False):
            with self.subTest(sasl_ir=sasl_ir), self.connect() as c:
                _, tagged = c.authenticate_plain("a1", "rita", "pw-rita", sasl_ir=sasl_ir)
                self.assertEqual(tagged, self.referral("a1", "rita"))
                check_referral_line(tagged)

    def test_direct_listener_refers_default_user(self):
        with self.connect("FRONT_DIRECT_PORT") as c:
            _, tagged = c.login("a1", "alice", "pw-alice")
        self.assertEqual(tagged, self.referral("a1", "alice"))
        check_referral_line(tagged)

    def test_login_name_is_percent_encoded_R5092_11(self):
        with self.connect() as c:
            _, tagged = c.login("a1", "ute@example.test", "pw-ute")
        self.assertEqual(tagged, self.referral("a1", "ute%40example.test"))
        check_referral_line(tagged)

    def test_three_referrals_fast_and_identical_D14(self):
        answers, times = [], []
        with self.connect() as c:
            for i in range(3):
                t0 = time.monotonic()
                _, tagged = c.login("r%d" % i, "rita", "pw-rita")
                times.append(time.monotonic() - t0)
                check_referral_line(tagged)
                answers.append(tagged.split(b" ", 1)[1])
        self.assertEqual(answers, [self.referral("x", "rita").split(b" ", 1)[1]] * 3)
        for t in times:
            self.assertLess(t, FAST, "referral took %.3fs: %r" % (t, times))

    def test_capability_before_and_after_login_R2221_1(self):
        with self.connect() as c:
            self.assertIn(b" LOGIN-REFERRALS ", c.greeting)
            untagged, _ = c.command("c1", "CAPABILITY")
            self.assertIn(b" LOGIN-REFERRALS ", untagged[0] + b" ")
            untagged, tagged = c.login("a1", self.env["LOCAL_USER"], self.env["LOCAL_PASS"])
            self.assertEqual(tagged, b"a1 OK Logged in")
            untagged, tagged = c.command("c2", "CAPABILITY")
            self.assertTrue(tagged.startswith(b"c2 OK Capability completed"), tagged)
            self.assertIn(b" LOGIN-REFERRALS ", untagged[0] + b" ")
            self.assertNotIn(b"AUTH=PLAIN", untagged[0])

    def test_suggest_policy_is_ok_referral_R2221_10_D13(self):
        offset = os.path.getsize(self.env["FRONT_LOG"])
        for how in ("login", "sasl-ir", "plain"):
            with self.subTest(how=how), self.connect() as c:
                if how == "login":
                    untagged, tagged = c.login("a1", "sue", "pw-sue")
                else:
                    untagged, tagged = c.authenticate_plain("a1", "sue", "pw-sue",
                                                            sasl_ir=(how == "sasl-ir"))
                # One tagged completion, REFERRAL and no CAPABILITY code on it.
                self.assertEqual(untagged, [])
                self.assertEqual(tagged, self.referral("a1", "sue", cond="OK"))
                check_referral_line(tagged)
                # Authenticated here: Dovecot's login line arrives untagged
                # and mailbox commands work.
                untagged, tagged = c.command("l1", 'LIST "" "INBOX"')
                self.assertTrue(tagged.startswith(b"l1 OK List completed"), tagged)
                self.assertTrue(untagged[0].startswith(b"* OK [CAPABILITY IMAP4rev1 "), untagged)
                self.assertTrue(untagged[0].endswith(b"] Logged in"), untagged)
                self.assertFalse([u for u in untagged if u.startswith(b"a1 ")], untagged)
        # R2221-16 on one info line per login: Dovecot's own login line,
        # as Dovecot writes it, with the referral's target, command and
        # user at its end; no line of the plugin's own.
        note = (r"; OK referral imap://sue;AUTH=\*@%s/ \((LOGIN|AUTHENTICATE)\)$"
                % re.escape(self.home1))
        deadline = time.monotonic() + 10
        while True:
            with open(self.env["FRONT_LOG"], "rb") as f:
                f.seek(offset)
                log = f.read().decode("utf-8", "replace")
            referred = [l for l in log.splitlines() if "referral imap://sue;" in l]
            if len(referred) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(referred), 3, log[-3000:])
        self.assertEqual([re.search(note, l).group(1) for l in referred],
                         ["LOGIN", "AUTHENTICATE", "AUTHENTICATE"], referred)
        for line in referred:
            self.assertRegex(line, login_ok_log("sue"))
            self.assertIn(" Info: ", line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
