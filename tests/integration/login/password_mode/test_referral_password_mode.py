#!/usr/bin/env python3
"""Password mode (issue 13 item 3; docs/login-referrals.md §1.6): the
referral passdb alone checks the password against the user's directory
entry (password_attribute = userPassword) and places the user from the same
search.  A private front whose only passdb is `passdb referral` (the lab
template's passwd-file passdb is taken out), a private slapd with our
schema.  Checked, on Dovecot 2.3 and 2.4:

* the right password -> the exact NO [REFERRAL imap://user;AUTH=*@host/]
  (also a {SCHEME}-less SHA512-CRYPT value: password_default_scheme CRYPT);
* a wrong password, an unknown user, an entry without a password ->
  AUTHENTICATIONFAILED and no referral anywhere in the answer (R2221-15);
* a password changed in LDAP works at once although the old answer is
  cached (a failed check asks the directory once more), and the old one
  stops working;
* hostile stored values (200 kB, control octets, a broken {SCHEME} prefix,
  an unknown scheme) -> a failed login with a clear log line, never a crash;
* CRAM-MD5 (a credentials mechanism, enabled for this front) logs a local
  user in with the stored {PLAIN} value, and refuses a wrong response;
* two directory entries for one login name -> NO [UNAVAILABLE] (an internal
  failure, as Dovecot's own ldap passdb answers), with the right password,
  cold and cached, for LOGIN and CRAM-MD5, and an error line naming the
  user and the count; never a referral;
* no stored password, and no client password, ever reaches the log, with
  auth_debug on;
* one search per cold login (slapd's own log);
* slapd stopped: a user whose answer is cached past its TTL is still
  referred (the stale answer's warning), a wrong password still fails.
  This runs last (test_z...).

Private front and slapd on 127.0.0.100-101, home 127.0.0.102, where nothing
listens (referrals only); DREF_PASSWORD_MODE_ADDR_BASE moves them (and the
chain test's 103-104).  The lab fixture is needed only for the passdb
driver link (and the settings module link on 2.4).  Everything started here
is stopped here, also on failure.
"""
import base64
import hashlib
import hmac
import os
import re
import socket
import subprocess
import sys
import time
import unittest

from referral_support import (AUTH_FAILED, DEFAULT_REFERRAL_TEXT, SOURCE_DIR, ImapClient,
                              PrivateServersTest, build_dir, fresh_source, ldif_value,
                              private_dovecot, private_slapd, without_template_passdb, work_dir)

import dovecot_processes
import lab_dovecot
import lab_process
import slapd_server
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "perf"))
import perf_common  # noqa: E402

ADDR_BASE = int(os.environ.get("DREF_PASSWORD_MODE_ADDR_BASE", "100"))
FRONT_ADDR, SLAPD_ADDR = ("127.0.0.%d" % (ADDR_BASE + i) for i in range(2))
HOME = "127.0.0.%d" % (ADDR_BASE + 2)  # in allowed_hosts; nothing listens (referrals only)
HOME_PORT = 10143
BASE = "ou=people,dc=example,dc=test"
CACHE_TTL_S = 3

UNAVAILABLE = b"NO [UNAVAILABLE]"


def sha512_crypt(password):
    """A $6$ hash from openssl (Python 3.13 has no crypt module)."""
    return subprocess.run(["openssl", "passwd", "-6", "-salt", "drefsalt", password],
                          stdout=subprocess.PIPE, check=True, timeout=30).stdout.decode().strip()


# user -> (userPassword values or None, mailHost).  Passwords are distinct
# strings, so the log check below finds any of them.
def entries():
    return {
        "alice": (["{PLAIN}Alice-Secret-1"], HOME),
        "bob": (["{PLAIN}Bob-Secret-10"], HOME),          # logged in by one test only
        "cryptuser": ([sha512_crypt("Crypt-Secret-2")], HOME),
        "changer": (["{PLAIN}Old-Secret-3"], HOME),
        "nopw": (None, HOME),
        "lucy": (["{PLAIN}Lucy-Secret-4"], FRONT_ADDR),   # home is this server: local login
        "huge": (["H" * 200000 + "Huge-Secret-5"], HOME),
        "ctrl": (["Ctrl\r\nSecret-6"], HOME),
        "broken": (["{SHA512-CRYPT Broken-Secret-7"], HOME),
        "unknown": (["{NOSUCHSCHEME}Unknown-Secret-8"], HOME),
        "stale": (["{PLAIN}Stale-Secret-9"], HOME),
        "twice": (["{PLAIN}Twice-Secret-11"], HOME),   # and the entry of TWICE_SECOND
    }


# A second entry that user_filter finds for the login name "twice" (its mail).
TWICE_SECOND = ("dn: uid=twice-b,%s\nobjectClass: inetOrgPerson\n"
                "objectClass: inetLocalMailRecipient\nuid: twice-b\ncn: twice-b\nsn: Password\n"
                "mail: twice\nmailHost: %s\nuserPassword: {PLAIN}Twice-Secret-11\n" % (BASE, HOME))


SECRETS = ["Alice-Secret-1", "Bob-Secret-10", "Crypt-Secret-2", "Old-Secret-3", "New-Secret-3", "Lucy-Secret-4",
           "Huge-Secret-5", "Secret-6", "Broken-Secret-7", "Unknown-Secret-8", "Stale-Secret-9",
           "Twice-Secret-11", "Wrong-Secret-0"]


def ldif():
    out = ["dn: %s\nobjectClass: organizationalUnit\nou: people\n" % BASE]
    for user, (passwords, host) in entries().items():
        e = ("dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: inetLocalMailRecipient\n"
             "objectClass: imapReferralAccount\nuid: %s\ncn: %s\nsn: Password\nmailHost: %s\n"
             "imapReferralPolicy: refer\n" % (user, BASE, user, user, host))
        for p in passwords or []:
            e += ldif_value("userPassword", p)
        out.append(e)
    out.append(TWICE_SECOND)
    return "\n".join(out)


class PasswordModeTest(PrivateServersTest):
    @classmethod
    def _start(cls):
        cls.srv = private_slapd(cls.cleanups, SLAPD_ADDR, ldif(), "password.ldif")
        cls.counters = perf_common.SlapdCounters(cls.srv).enable()
        cls.port = lab_process.pick_port([FRONT_ADDR])
        d = work_dir("pwfront")
        settings = os.path.join(d, "dovecot-referral.conf.ext")
        with open(settings, "w", encoding="utf-8") as f:
            f.write("ldap_uris = %s\nldap_bind_dn = %s\nldap_bind_password = %s\n"
                    "ldap_connect_timeout = 500ms\nldap_timeout = 1s\n"
                    "user_base = %s\nhome_port = %d\npassword_attribute = userPassword\n"
                    "cache_ttl = %ds\nnegative_cache_ttl = 1s\nlocal_names = %s\n"
                    "default_policy = refer\nallowed_hosts = %s %s\n"
                    % (cls.srv.uri, slapd_server.ROOT_DN, slapd_server.ROOT_PASSWORD, BASE,
                       HOME_PORT, CACHE_TTL_S, FRONT_ADDR, HOME, FRONT_ADDR))
        os.chmod(settings, 0o644)
        include = lab_dovecot.conf_passdb_referral(settings, "  result_internalfail = return-fail")
        include += lab_dovecot.conf_login_plugin(
            os.path.join(build_dir(), "plugin", "login"), settings)
        # The imap plugin pointed at the same file: it must refuse it (its
        # bind DN can read every hash; process_secrets.h).
        include += lab_dovecot.conf_mail_plugin(os.path.join(build_dir(), "plugin", "imap"), settings)
        include += "auth_debug = yes\nauth_mechanisms = plain login cram-md5\n"
        cls.front = private_dovecot(cls.cleanups, "pwfront", FRONT_ADDR, cls.port,
                                    [("lucy", "unused")], "", include=include, d=d,
                                    edit_conf=without_template_passdb)

    # ---- helpers ---------------------------------------------------------
    def log(self, offset=0):
        # `offset` counts octets (os.path.getsize): slice before decoding, or
        # a multi-octet character earlier in the log shifts the start.
        with open(self.front.log, "rb") as f:
            return f.read()[offset:].decode("utf-8", errors="replace")

    def connect(self):
        sock = socket.create_connection((FRONT_ADDR, self.port), timeout=15,
                                        source_address=(fresh_source(), 0))
        c = ImapClient(sock, 15)
        c.greeting = c.read_line()
        return c

    def login(self, tag, user, password):
        c = self.connect()
        try:
            return c.login(tag, user, password)
        finally:
            c.close()

    def referral(self, tag, user):
        return b"%s NO [REFERRAL imap://%s;AUTH=*@%s:%d/] %s" % (
            tag.encode(), user.encode(), HOME.encode(), HOME_PORT, DEFAULT_REFERRAL_TEXT)

    def assert_failed(self, untagged, tagged, tag, expected=AUTH_FAILED):
        self.assertEqual(tagged, tag.encode() + b" " + expected)
        self.assertNotIn(b"REFERRAL", tagged)
        for line in untagged:
            self.assertNotIn(b"REFERRAL", line)

    def wait_log(self, pattern, offset, what):
        deadline = time.monotonic() + 10
        while not re.search(pattern, self.log(offset)):
            self.assertLess(time.monotonic(), deadline, "%s:\n%s" % (what, self.log(offset)[-3000:]))
            time.sleep(0.1)
        return self.log(offset)

    def searches(self):
        """A snapshot of slapd's operation counters (cn=Monitor)."""
        return self.counters.read()

    def searched(self, before):
        """Searches since the snapshot `before`, the counter reads excluded."""
        return self.counters.diff(before, self.counters.read()).get("Search", 0)

    # ---- tests -----------------------------------------------------------
    def test_right_password_is_referred_with_one_search(self):
        # Cold: one search, for the password and the placement together.
        before = self.searches()
        _, tagged = self.login("a1", "bob", "Bob-Secret-10")
        self.assertEqual(tagged, self.referral("a1", "bob"))
        self.assertEqual(self.searched(before), 1)
        # Warm: from the cache, no search.
        before = self.searches()
        _, tagged = self.login("a2", "bob", "Bob-Secret-10")
        self.assertEqual(tagged, self.referral("a2", "bob"))
        self.assertEqual(self.searched(before), 0)
        # AUTHENTICATE PLAIN too.
        c = self.connect()
        try:
            _, tagged = c.authenticate_plain("a3", "alice", "Alice-Secret-1")
        finally:
            c.close()
        self.assertEqual(tagged, self.referral("a3", "alice"))

    def test_default_scheme_crypt_verifies_a_sha512_crypt_value(self):
        _, tagged = self.login("c1", "cryptuser", "Crypt-Secret-2")
        self.assertEqual(tagged, self.referral("c1", "cryptuser"))
        untagged, tagged = self.login("c2", "cryptuser", "Wrong-Secret-0")
        self.assert_failed(untagged, tagged, "c2")

    def test_wrong_password_unknown_user_and_no_password_fail_without_referral_R2221_15(self):
        offset = os.path.getsize(self.front.log)
        for tag, user, password in (("w1", "alice", "Wrong-Secret-0"),
                                    ("w2", "nobody", "Wrong-Secret-0"),
                                    ("w3", "nopw", "Wrong-Secret-0")):
            untagged, tagged = self.login(tag, user, password)
            self.assert_failed(untagged, tagged, tag)
        text = self.wait_log(r"nopw[^\n]*No password returned", offset, "no 'no password' line")
        self.assertRegex(text, r"nobody[^\n]*unknown user")
        # Nothing of a referral reached the login process with their failures.
        # Only FAIL answers are looked at: the log process may still be writing
        # the debug lines of an earlier test's successful (referred) login.
        text = self.wait_log(r"(client passdb out: FAIL[^\n]*\n[\s\S]*){3}", offset,
                             "not three FAIL answers")
        failures = [line for line in text.splitlines() if "client passdb out: FAIL" in line]
        for line in failures:
            self.assertNotIn("nologin", line)
            self.assertNotIn("host=", line)

    def test_changed_password_works_at_once(self):
        _, tagged = self.login("p1", "changer", "Old-Secret-3")
        self.assertEqual(tagged, self.referral("p1", "changer"))   # now cached
        self.srv.modify("dn: uid=changer,%s\nchangetype: modify\nreplace: userPassword\n"
                        "userPassword: {PLAIN}New-Secret-3\n" % BASE)
        before = self.searches()
        offset = os.path.getsize(self.front.log)
        _, tagged = self.login("p2", "changer", "New-Secret-3")
        self.assertEqual(tagged, self.referral("p2", "changer"))
        self.assertEqual(self.searched(before), 1, "the failed check asks the directory once")
        self.wait_log(r"changer[^\n]*password check failed against the cached answer: asking the "
                      r"directory again", offset, "not checked against the cached answer first")
        untagged, tagged = self.login("p3", "changer", "Old-Secret-3")
        self.assert_failed(untagged, tagged, "p3")

    def test_hostile_stored_values_fail_cleanly(self):
        offset = os.path.getsize(self.front.log)
        for i, (user, password, expected) in enumerate((
                ("huge", "H" * 100 + "Huge-Secret-5", AUTH_FAILED),
                ("ctrl", "Ctrl", AUTH_FAILED),
                ("broken", "Broken-Secret-7", AUTH_FAILED),
                ("unknown", "Unknown-Secret-8", None))):
            tag = "h%d" % i
            untagged, tagged = self.login(tag, user, password)
            if expected is None:
                # Dovecot's own "Unknown scheme" error: a directory to
                # repair, answered as a temporary failure.
                self.assertTrue(tagged.startswith(tag.encode() + b" " + UNAVAILABLE), tagged)
                self.assertNotIn(b"REFERRAL", tagged)
            else:
                self.assert_failed(untagged, tagged, tag, expected)
        text = self.wait_log(r"Unknown scheme NOSUCHSCHEME", offset, "no unknown scheme line")
        self.assertRegex(text, r"huge[^\n]*userPassword value refused: 200013 octets, more than 1024")
        self.assertRegex(text, r"ctrl[^\n]*userPassword value refused: control octet")
        self.assertRegex(text, r"broken[^\n]*userPassword value starts with '\{' but has no valid")
        # The auth process is still there and answers.
        _, tagged = self.login("h9", "alice", "Alice-Secret-1")
        self.assertEqual(tagged, self.referral("h9", "alice"))

    def cram_md5(self, tag, user, password):
        """AUTHENTICATE CRAM-MD5: (untagged, tagged)."""
        c = self.connect()
        try:
            c.send_raw(tag.encode() + b" AUTHENTICATE CRAM-MD5\r\n")
            line = c.read_response_line()
            self.assertTrue(line.startswith(b"+ "), line)
            challenge = base64.b64decode(line[2:])
            digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
            c.send_raw(base64.b64encode(user.encode() + b" " + digest.encode()) + b"\r\n")
            return c.read_until_tagged(tag.encode())
        finally:
            c.close()

    def test_cram_md5_uses_the_stored_password(self):
        for tag, password, ok in (("m1", "Lucy-Secret-4", True), ("m2", "Wrong-Secret-0", False)):
            untagged, tagged = self.cram_md5(tag, "lucy", password)
            if ok:
                self.assertTrue(tagged.startswith(tag.encode() + b" OK"), tagged)
            else:
                self.assert_failed(untagged, tagged, tag)

    def test_several_entries_for_one_user_are_an_internal_failure(self):
        offset = os.path.getsize(self.front.log)
        # The right password of both entries, cold and then cached.
        answers = [self.login("t1", "twice", "Twice-Secret-11"),
                   self.login("t2", "twice", "Twice-Secret-11"),
                   self.cram_md5("t3", "twice", "Twice-Secret-11")]
        for i, (untagged, tagged) in enumerate(answers):
            tag = "t%d" % (i + 1)
            self.assertTrue(tagged.startswith(tag.encode() + b" " + UNAVAILABLE), tagged)
            self.assertNotIn(b"REFERRAL", tagged)
            for line in untagged:
                self.assertNotIn(b"REFERRAL", line)
        text = self.wait_log(r"(?s)(Error: [^\n]*directory: 2 entries match the login name \"twice\", "
                             r"password mode needs exactly one: login failed \(internal failure\)"
                             r".*){3}", offset, "no several-entries error line per login")
        self.assertRegex(text, r"2 directory entries match the user \(uid=twice,[^\n]*uid=twice-b,")

    def test_imap_plugin_refuses_the_password_mode_settings_file(self):
        offset = os.path.getsize(self.front.log)
        c = self.connect()
        try:
            _, tagged = c.login("m1", "lucy", "Lucy-Secret-4")
            self.assertTrue(tagged.startswith(b"m1 OK"), tagged)
            untagged, tagged = c.command("m2", "CAPABILITY")
            self.assertTrue(tagged.startswith(b"m2 OK"), tagged)
            caps = b" ".join(untagged)
            self.assertIn(b"IMAP4rev1", caps)
            self.assertNotIn(b"MAILBOX-REFERRALS", caps)
            # The session goes on without mailbox referrals.
            _, tagged = c.command("m3", "SELECT INBOX")
            self.assertTrue(tagged.startswith(b"m3 OK"), tagged)
            c.logout()
        finally:
            c.close()
        text = self.wait_log(r"imap plugin: .*password_attribute is set \(password mode\).*"
                             r"mailbox referrals disabled", offset, "the imap plugin's refusal")
        self.assertNotIn(slapd_server.ROOT_PASSWORD, text)

    @staticmethod
    def memory_holds(pid, needle):
        """True when a readable mapping of `pid` (heap, stack, data) holds
        `needle`; root reads /proc/<pid>/mem."""
        with open("/proc/%d/maps" % pid, "r", encoding="ascii", errors="replace") as maps, \
                open("/proc/%d/mem" % pid, "rb", 0) as mem:
            for line in maps:
                fields = line.split()
                if not fields[1].startswith("r") or (len(fields) > 5 and fields[5].startswith("[v")):
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                try:
                    mem.seek(start)
                    if needle in mem.read(end - start):
                        return True
                except (OSError, OverflowError, ValueError):
                    continue
        return False

    def test_login_process_keeps_no_directory_password(self):
        # An imap-login process that has greeted a client has run the login
        # plugin's init (which read the whole settings file as root): the
        # bind password must be gone from its memory (process_secrets.h).
        c = self.connect()
        try:
            pids = dovecot_processes.children(self.front.pid, "imap-login")
            self.assertTrue(pids, "no imap-login process of the front")
            for pid in pids:
                self.assertFalse(self.memory_holds(pid, slapd_server.ROOT_PASSWORD.encode()),
                                 "imap-login %d still holds ldap_bind_password" % pid)
                # The scan finds what the plugin keeps: the bind DN, read
                # from the same file, stays (it is no secret).
                self.assertTrue(self.memory_holds(pid, slapd_server.ROOT_DN.encode()),
                                "imap-login %d: the settings file's bind DN not found" % pid)
        finally:
            c.close()

    def test_y_no_password_in_the_log(self):
        # After the other tests (alphabetical order): every secret was sent
        # or stored by then.
        text = self.log()
        for secret in SECRETS:
            self.assertNotIn(secret, text)
        self.assertNotIn("HHHHHHHHHH", text)

    def test_z_slapd_stopped_serves_the_cached_user(self):
        _, tagged = self.login("s1", "stale", "Stale-Secret-9")
        self.assertEqual(tagged, self.referral("s1", "stale"))
        self.srv.stop()
        time.sleep(CACHE_TTL_S + 0.5)   # the answer is past its TTL now
        offset = os.path.getsize(self.front.log)
        _, tagged = self.login("s2", "stale", "Stale-Secret-9")
        self.assertEqual(tagged, self.referral("s2", "stale"))
        self.wait_log(r"directory unavailable \([^\n]*\): using the last answer, \d+ s past its "
                      r"cache TTL", offset, "no stale warning")
        untagged, tagged = self.login("s3", "stale", "Wrong-Secret-0")
        self.assert_failed(untagged, tagged, "s3")


if __name__ == "__main__":
    unittest.main(verbosity=2)
