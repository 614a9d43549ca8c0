#!/usr/bin/env python3
"""The home server from an earlier passdb's fields (issue 13, item 2;
docs/login-referrals.md §1.5).

A private front whose password passdb is Dovecot's own `passdb ldap`,
returning the placement attributes as referral_home_server / referral_url /
referral_policy / referral_user (2.3 plain pass_attrs mappings plus the constant
referral_fields naming them, 2.4 `fields { }` with %{ldap_multi:...|default}),
followed by passdb referral.  Checked:

* a user with good values is referred from the fields, without a directory
  search of the referral passdb ("from passdb fields" in its debug line);
* hostile values in those fields (CR/LF, ']', control characters, over-long,
  a bad port in the URL, a host outside allowed_hosts, a hostile policy and
  referral user) are refused exactly as the same values in the directory
  are: a clean NO [CONTACTADMIN] or the value ignored, never on the wire;
* a user whose password passdb returned no such field (a passwd-file user,
  the ldap passdb skipped) is looked up in the directory as before;
* the referral_* fields never reach the login process (the auth process's
  "client passdb out" debug lines).

Private slapd and front on 127.0.0.46-47; no home server is started (the
policy is refer, so nothing connects to one).  The lab fixture is needed
only for the passdb driver link (and the settings module link on 2.4).
Everything started here is stopped here, also on failure.
"""
import os
import re
import socket
import time
import unittest

from referral_support import (REJECT, DEFAULT_REFERRAL_TEXT, ImapClient,
                              PrivateServersTest, build_dir, fresh_source, ldif_value, login,
                              private_dovecot, private_slapd, work_dir)

import lab_dovecot
import lab_process
import slapd_server
from dovecot_version import is_24, passdb_log

FRONT_ADDR = "127.0.0.46"
SLAPD_ADDR = "127.0.0.47"
HOME = "127.0.0.48"          # in allowed_hosts; nothing listens (referrals only)
ROGUE = "rogue.example.org"  # a valid name outside allowed_hosts
BASE = "ou=people,dc=example,dc=test"

# user -> attributes of the entry (values may be hostile bytes).
ENTRIES = {
    "good": {"mailHost": HOME, "imapReferralPolicy": "refer"},
    "urluser": {"imapHomeServerURL": "imap://other@%s:1993/" % HOME},
    "crlf": {"mailHost": HOME + "\r\n* OK injected"},
    "bracket": {"mailHost": "home]x.example.test"},
    "ctrl": {"mailHost": "ho\x01me.example.test"},
    "long": {"mailHost": "a" * 300},
    "badport": {"imapHomeServerURL": "imap://%s:99999/" % HOME},
    "badurl": {"imapHomeServerURL": "imap://%s:99999/" % HOME, "mailHost": HOME},
    "rogue": {"mailHost": ROGUE},
    "badpolicy": {"mailHost": HOME, "imapReferralPolicy": "local\r\n"},
    "baduser": {"mailHost": HOME, "employeeNumber": "bob\r\n]x"},
    "plain": {"mailHost": HOME},  # in the passwd file: no fields, the directory is asked
}
HOSTILE = ("crlf", "bracket", "ctrl", "long", "badport", "rogue")


def ldif():
    out = ["dn: %s\nobjectClass: organizationalUnit\nou: people\n" % BASE]
    for user, attrs in ENTRIES.items():
        e = ("dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: inetLocalMailRecipient\n"
             "objectClass: imapReferralAccount\nuid: %s\ncn: %s\nsn: Fields\n"
             "userPassword: pw-%s\n" % (user, BASE, user, user, user))
        for attr, value in attrs.items():
            e += ldif_value(attr, value)
        out.append(e)
    return "\n".join(out)


def ldap_passdb_23(d, srv):
    """Debian's auth-ldap.conf.ext passdb with result_success = continue-ok,
    and the pass_attrs line of docs/login-referrals.md §1.5."""
    args = os.path.join(d, "dovecot-ldap.conf.ext")
    with open(args, "w", encoding="utf-8") as f:
        f.write("uris = %s\ndn = %s\ndnpass = %s\nauth_bind = no\nldap_version = 3\n"
                "base = %s\nscope = subtree\n"
                "pass_filter = (&(objectClass=inetOrgPerson)(uid=%%u))\n"
                "pass_attrs = uid=user, userPassword=password, "
                "mailHost=referral_home_server, imapHomeServerURL=referral_url, "
                "imapReferralPolicy=referral_policy, employeeNumber=referral_user, "
                "=referral_fields=referral_home_server+referral_url+referral_policy"
                "+referral_user\n"
                "default_pass_scheme = PLAIN\n"
                % (srv.uri.rstrip("/"), slapd_server.ROOT_DN, slapd_server.ROOT_PASSWORD, BASE))
    os.chmod(args, 0o644)
    return ("passdb {\n  driver = ldap\n  args = %s\n  skip = authenticated\n"
            "  result_success = continue-ok\n}\n" % args)


def ldap_passdb_24(srv):
    """The same in 2.4 syntax: the `fields { }` of docs/login-referrals.md §1.5."""
    return ("passdb ldap {\n  driver = ldap\n  skip = authenticated\n"
            "  result_success = continue-ok\n"
            "  ldap_uris = %s\n  ldap_auth_dn = %s\n  ldap_auth_dn_password = %s\n"
            "  ldap_base = %s\n  ldap_scope = subtree\n  bind = no\n"
            "  filter = (&(objectClass=inetOrgPerson)(uid=%%{user}))\n"
            "  default_password_scheme = PLAIN\n"
            "  fields {\n    user = %%{ldap:uid}\n    password = %%{ldap:userPassword}\n"
            "    referral_home_server = %%{ldap_multi:mailHost | default}\n"
            "    referral_url = %%{ldap_multi:imapHomeServerURL | default}\n"
            "    referral_policy = %%{ldap_multi:imapReferralPolicy | default}\n"
            "    referral_user = %%{ldap_multi:employeeNumber | default}\n  }\n}\n"
            % (srv.uri.rstrip("/"), slapd_server.ROOT_DN, slapd_server.ROOT_PASSWORD, BASE))


class PassdbFieldsTest(PrivateServersTest):
    @classmethod
    def _start(cls):
        srv = private_slapd(cls.cleanups, SLAPD_ADDR, ldif(), "fields.ldif")

        cls.port = lab_process.pick_port([FRONT_ADDR])
        cls.home_port = 10143
        fd = work_dir("ffront")
        settings = os.path.join(fd, "dovecot-referral.conf.ext")
        with open(settings, "w", encoding="utf-8") as f:
            f.write("ldap_uris = %s\nldap_bind_dn = %s\nldap_bind_password = %s\n"
                    "user_base = %s\nhome_port = %d\nreferral_user_attribute = employeeNumber\n"
                    "cache_ttl = 1s\nnegative_cache_ttl = 1s\nlocal_names = %s\n"
                    "default_policy = refer\nallowed_hosts = %s\n"
                    % (srv.uri, slapd_server.ROOT_DN, slapd_server.ROOT_PASSWORD, BASE,
                       cls.home_port, FRONT_ADDR, HOME))
        os.chmod(settings, 0o644)
        include = ldap_passdb_24(srv) if is_24() else ldap_passdb_23(fd, srv)
        include += lab_dovecot.conf_passdb_referral(
            settings, "  skip = unauthenticated\n  result_internalfail = return-fail")
        include += lab_dovecot.conf_login_plugin(os.path.join(build_dir(), "plugin", "login"),
                                                 settings)
        include += "auth_debug = yes\n"
        cls.front = private_dovecot(cls.cleanups, "ffront", FRONT_ADDR, cls.port,
                                    [("plain", "pw-plain")], "", include=include, d=fd)

    def log(self, offset=0):
        with open(self.front.log, "r", encoding="utf-8", errors="replace") as f:
            return f.read()[offset:]

    def login(self, tag, user):
        sock = socket.create_connection((FRONT_ADDR, self.port), timeout=15,
                                        source_address=(fresh_source(), 0))
        c = ImapClient(sock, 15)
        try:
            c.greeting = c.read_line()
            untagged, tagged, _ = login(c, tag, user, "pw-" + user)
            return untagged, tagged
        finally:
            c.close()

    def referral(self, tag, user, port=None, host=HOME):
        return b"%s NO [REFERRAL imap://%s;AUTH=*@%s:%d/] %s" % (
            tag.encode(), user.encode(), host.encode(), port or self.home_port,
            DEFAULT_REFERRAL_TEXT)

    def lookup_line(self, user, text):
        """The referral passdb's debug line for user's lookup."""
        m = re.search(passdb_log("referral", re.escape(user)) + r"[^\n]*home server lookup: ([^\n]*)",
                      text)
        self.assertIsNotNone(m, "no lookup line for %s in:\n%s" % (user, text[-3000:]))
        return m.group(1)

    def wait_lookup(self, user, offset):
        deadline = time.monotonic() + 10
        while True:
            text = self.log(offset)
            # "home server lookup: " is the finished line; "home server
            # lookup started" comes first and the log process may not have
            # written the second one yet.
            if re.search(passdb_log("referral", re.escape(user)) + r"[^\n]*home server lookup: ", text):
                return text
            self.assertLess(time.monotonic(), deadline, text[-3000:])
            time.sleep(0.1)

    def test_good_values_are_referred_without_a_search(self):
        for tag, user, expected in (("g1", "good", self.referral("g1", "good")),
                                    ("g2", "urluser", self.referral("g2", "other", 1993)),
                                    ("g3", "badurl", self.referral("g3", "badurl")),
                                    ("g4", "badpolicy", self.referral("g4", "badpolicy")),
                                    ("g5", "baduser", self.referral("g5", "baduser"))):
            offset = os.path.getsize(self.front.log)
            _, tagged = self.login(tag, user)
            self.assertEqual(tagged, expected, user)
            self.assertIn("from passdb fields", self.lookup_line(user, self.wait_lookup(user, offset)))

    def test_hostile_values_never_reach_the_wire_D17(self):
        for i, user in enumerate(HOSTILE):
            offset = os.path.getsize(self.front.log)
            tag = "h%d" % i
            untagged, tagged = self.login(tag, user)
            self.assertEqual(tagged, tag.encode() + b" " + REJECT, user)
            self.assertEqual(untagged, [], user)
            text = self.wait_lookup(user, offset)
            self.assertIn("from passdb fields", self.lookup_line(user, text))
            # The log quotes the value (no raw CR/LF or control byte) and
            # names the field it came from.
            self.assertRegex(text, passdb_log("referral", user) +
                             r"[^\n]*(passdb fields: referral_|allowed_hosts)")
        self.assertRegex(self.log(), passdb_log("referral", "crlf") +
                         r"[^\n]*passdb fields: referral_home_server "
                         r"'127\.0\.0\.48\\x0D\\x0A\* OK injected' is not a valid host name")

    def test_user_without_fields_is_looked_up_in_the_directory(self):
        offset = os.path.getsize(self.front.log)
        _, tagged = self.login("p1", "plain")
        self.assertEqual(tagged, self.referral("p1", "plain"))
        line = self.lookup_line("plain", self.wait_lookup("plain", offset))
        self.assertNotIn("from passdb fields", line)
        self.assertRegex(line, r"found in \d+ us \(cache (miss|hit)\)")

    def test_fields_do_not_reach_the_login_process(self):
        offset = os.path.getsize(self.front.log)
        _, tagged = self.login("n1", "good")
        self.assertEqual(tagged, self.referral("n1", "good"))
        deadline = time.monotonic() + 10
        while "client passdb out" not in self.log(offset):
            self.assertLess(time.monotonic(), deadline, self.log(offset)[-3000:])
            time.sleep(0.1)
        out = [line for line in self.log(offset).splitlines() if "client passdb out" in line]
        self.assertTrue(any("host=%s" % HOME in line for line in out), out)
        for line in out:
            self.assertNotIn("referral_", line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
