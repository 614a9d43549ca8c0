#!/usr/bin/env python3
"""Policy proxy-suggest (issue 11 item 1): the front proxies the session to
the user's home server, as with `proxy`, and the client's tagged reply to
its LOGIN / AUTHENTICATE is the RFC 2221 §4.1 OK referral (R2221-10):

    * CAPABILITY <the home server's capabilities>\\r\\n
    <tag> OK [REFERRAL imap://<user>;AUTH=*@<home>:<port>/] Logged in\\r\\n

One response code per response (R3501-3), so the capabilities come untagged
first (D-13); exactly one tagged reply.  The session really is proxied: the
INBOX is the home server's, and the home server logged the login.

The front (127.0.0.60) has two listeners: the default one proxies
(default_policy = proxy) and the second one has `listener_rule =
proxy-suggest`; pia's directory entry says imapReferralPolicy =
proxy-suggest.  refer_insecure = no: a client that is not secured (here:
connecting from another loopback address than the front's, which Dovecot
counts as neither TLS nor local) gets insecure_policy (proxy) instead of the
hint; the tests that expect the hint connect from the front's own address,
which Dovecot treats as a secured local connection.

Private servers on 127.0.0.60-63 (front .60, slapd .61, home A .62; .63 is
a home outside allowed_hosts that never runs); the lab fixture is needed
only for the passdb driver link (and, on 2.4, the settings module link).
Everything started here is stopped here, also on failure.
"""
import os
import re
import socket
import sys
import time
import unittest

from referral_support import (AUTH_FAILED, REJECT, ImapClient,
                              PrivateServersTest, assert_local_login, build_dir, fresh_source,
                              inbox_subject, login, private_dovecot, private_slapd, work_dir)

import lab_dovecot
import lab_process
import slapd_server
from dovecot_version import auth_log_prefix, login_ok_log
from lab_logs import wait_settled

FRONT_ADDR = "127.0.0.60"
SLAPD_ADDR = "127.0.0.61"
HOME_A = "127.0.0.62"       # the home server of the remote users, in allowed_hosts
HOME_OUTSIDE = "127.0.0.63"  # not in allowed_hosts; nothing listens there

# user -> (imapReferralPolicy or None, mailHost)
USERS = {
    "pia": ("proxy-suggest", HOME_A),
    "max": (None, HOME_A),            # the listener's policy, else the default (proxy)
    "lou": ("proxy-suggest", FRONT_ADDR),  # home is the front: local
    "rex": ("proxy-suggest", HOME_OUTSIDE),
    "fay": ("proxy-suggest", HOME_A),  # home A does not take the front's password
    "gus": ("proxy", HOME_A),          # the same, with policy proxy
}
# Users whose password on home A differs from the front's.
REFUSED_AT_HOME = ("fay", "gus")


def ldif():
    out = ["dn: ou=people,dc=example,dc=test\nobjectClass: organizationalUnit\nou: people\n"]
    for user, (policy, host) in sorted(USERS.items()):
        entry = ("dn: uid=%s,ou=people,dc=example,dc=test\nobjectClass: inetOrgPerson\n"
                 "objectClass: inetLocalMailRecipient\n" % user)
        if policy:
            entry += "objectClass: imapReferralAccount\nimapReferralPolicy: %s\n" % policy
        entry += "uid: %s\ncn: %s\nsn: Suggest\nmailHost: %s\n" % (user, user, host)
        out.append(entry)
    return "\n".join(out)


class ProxySuggestTest(PrivateServersTest):
    @classmethod
    def _dovecot(cls, name, addr, port, passwords=None, **kw):
        users = [(u, (passwords or {}).get(u, "pw-" + u)) for u in sorted(USERS)]
        return private_dovecot(cls.cleanups, name, addr, port, users, FRONT_ADDR, **kw)

    @classmethod
    def _start(cls):
        srv = private_slapd(cls.cleanups, SLAPD_ADDR, ldif(), "suggest.ldif")
        cls.port = lab_process.pick_port([FRONT_ADDR])
        cls.suggest_port = lab_process.pick_port([FRONT_ADDR], taken={cls.port})
        cls.home_port = lab_process.pick_port([HOME_A], taken={cls.port, cls.suggest_port})
        cls.home_a = cls._dovecot("homeA", HOME_A, cls.home_port,
                                  passwords={u: "other-" + u for u in REFUSED_AT_HOME})

        fd = work_dir("sgfront")
        settings = os.path.join(fd, "dovecot-referral.conf.ext")
        with open(settings, "w", encoding="utf-8") as f:
            f.write("ldap_uris = %s\nldap_bind_dn = %s\nldap_bind_password = %s\n"
                    "user_base = ou=people,dc=example,dc=test\nhome_port = %d\n"
                    "cache_ttl = 1s\nnegative_cache_ttl = 1s\nlocal_names = %s\n"
                    "allowed_hosts = %s\ndefault_policy = proxy\n"
                    "listener_rule = proxy-suggest *:%d\n"
                    "refer_insecure = no\ninsecure_policy = proxy\n"
                    % (srv.uri, slapd_server.ROOT_DN, slapd_server.ROOT_PASSWORD,
                       cls.home_port, FRONT_ADDR, HOME_A, cls.suggest_port))
        os.chmod(settings, 0o644)
        include = lab_dovecot.conf_passdb_referral(
            settings, "  skip = unauthenticated\n  result_internalfail = return-fail")
        include += "imap_id_retain = yes\nauth_cache_size = 1M\nauth_cache_ttl = 60s\n"
        include += lab_dovecot.conf_login_plugin(os.path.join(build_dir(), "plugin", "login"),
                                                 settings)
        cls.front = cls._dovecot(
            "sgfront", FRONT_ADDR, cls.port, d=fd, include=include,
            listeners=lab_dovecot.conf_inet_listener("suggest", FRONT_ADDR, cls.suggest_port))
        # The capabilities home A announces after a login, as plain `proxy`
        # relays them in its tagged OK: what the hint must announce untagged.
        c = cls.connect(cls.port)
        try:
            _, tagged, _ = login(c, "p0", "max", "pw-max")
        finally:
            c.close()
        m = re.match(rb"^p0 OK \[CAPABILITY ([^\]]+)\] Logged in$", tagged)
        assert m, "plain proxy login of max: %r" % tagged
        cls.home_caps = m.group(1)

    @classmethod
    def connect(cls, port, secured=True):
        """A connection to the front; secured=True connects from the
        front's own address (Dovecot: a secured local connection)."""
        source = FRONT_ADDR if secured else fresh_source()
        sock = socket.create_connection((FRONT_ADDR, port), timeout=15,
                                        source_address=(source, 0))
        c = ImapClient(sock, 15)
        c.greeting = c.read_line()
        return c

    @staticmethod
    def log(inst, offset=0):
        with open(inst.log, "r", encoding="utf-8", errors="replace") as f:
            return f.read()[offset:]

    def wait_log(self, inst, offset, pattern, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            text = self.log(inst, offset)
            if re.search(pattern, text):
                return text
            if time.monotonic() > deadline:
                self.fail("%r not in %s:\n%s" % (pattern, inst.log, text[-3000:]))
            time.sleep(0.05)

    def url(self, user):
        return b"imap://%s;AUTH=*@%s:%d/" % (user.encode(), HOME_A.encode(), self.home_port)

    def expected_hint(self, tag, user):
        """The exact bytes of the login's reply (R2221-10, R3501-3, D-13)."""
        return (b"* CAPABILITY " + self.home_caps + b"\r\n" + tag.encode() +
                b" OK [REFERRAL " + self.url(user) + b"] Logged in\r\n")

    @staticmethod
    def wire(untagged, tagged):
        """What the server sent, CRLFs included (the client splits on CRLF)."""
        return b"".join(line + b"\r\n" for line in untagged + [tagged])

    def assert_proxied_session(self, c, user):
        """After the login: one tagged reply only (the next line answers the
        next command), and the INBOX is the home server's (proxied)."""
        untagged, tagged = c.command("n1", "NOOP")
        self.assertTrue(tagged.startswith(b"n1 OK NOOP completed"), (tagged, c.transcript))
        self.assertEqual(untagged, [])
        self.assertEqual(inbox_subject(c), "Welcome to %s's INBOX on homeA" % user)

    def hinted_login(self, how, tag, user, port=None, before=()):
        """Logs `user` in with LOGIN / AUTHENTICATE PLAIN (SASL-IR or not)
        and checks the hint, the session and both servers' logs."""
        offset_home = os.path.getsize(self.home_a.log)
        offset_front = os.path.getsize(self.front.log)
        c = self.connect(port or self.port)
        try:
            for t, command in before:
                _, done = c.command(t, command)
                self.assertTrue(done.startswith(t.encode() + b" OK"), done)
            if how == "login":
                untagged, tagged = c.login(tag, user, "pw-" + user)
            else:
                untagged, tagged = c.authenticate_plain(tag, user, "pw-" + user,
                                                        sasl_ir=(how == "sasl-ir"))
            # AUTHENTICATE without SASL-IR: the "+ " continuation came
            # before the reply and is not part of it.
            self.assertEqual(self.wire(untagged, tagged), self.expected_hint(tag, user),
                             c.transcript)
            # In the test's output, for the record of what clients get.
            sys.stderr.write("%s %s: %r\n" % (how, user, self.wire(untagged, tagged)))
            self.assert_proxied_session(c, user)
        finally:
            c.close()
        # The home server logged the login (the front proxied it), and the
        # front's one info line, Dovecot's "Started proxying", ends with the
        # hint: target, command and user (R2221-16).
        self.wait_log(self.home_a, offset_home, login_ok_log(user))
        text = self.wait_log(
            self.front, offset_front,
            # The URL shows the user as it is, so the note names only the command.
            r"Started proxying [^\n]*; OK referral %s \(hint on a proxied session\) "
            r"\(%s\)\n" % (re.escape(self.url(user).decode()),
                           "LOGIN" if how == "login" else "AUTHENTICATE"))
        self.assertEqual(len(re.findall(r"; OK referral %s" % re.escape(self.url(user).decode()),
                                        text)), 1, text[-3000:])
        return text

    # R2221-10, R2221-12, D-13: LOGIN, the directory's policy.
    def test_login_user_policy_R2221_10(self):
        self.hinted_login("login", "a1", "pia")

    # R2221-8: AUTHENTICATE PLAIN, with and without SASL-IR (RFC 4959).
    def test_authenticate_plain_sasl_ir_R2221_8(self):
        self.hinted_login("sasl-ir", "a2", "pia")

    def test_authenticate_plain_without_sasl_ir_R2221_8(self):
        self.hinted_login("authenticate", "a3", "pia")

    # listener_rule = proxy-suggest on the second listener; the same user on
    # the default listener gets plain `proxy` (checked in setUpClass).
    def test_listener_rule_R2221_12(self):
        self.hinted_login("login", "a4", "max", port=self.suggest_port)

    # A client that asked CAPABILITY before logging in (imap-login then
    # announces capabilities untagged itself): the same bytes, once.
    def test_capability_before_login_D13(self):
        self.hinted_login("login", "a5", "pia", before=[("c0", "CAPABILITY")])

    # A warm login (the answer in the driver's directory cache, not in
    # Dovecot's auth cache: the referral passdb has no cache key, issue 13)
    # gets the same bytes, and Dovecot writes no "Cached NULL password
    # access" line for it.
    def test_warm_login_same_bytes(self):
        probe = "dref-suggest-cache-%d" % os.getpid()
        offset = os.path.getsize(self.front.log)
        sid = [("i0", 'ID ("name" "%s")' % probe)]
        self.hinted_login("login", "k1", "pia", before=sid)
        self.hinted_login("login", "k2", "pia", before=sid)
        wait_settled(self.front.log)
        text = self.log(self.front, offset)
        self.assertNotRegex(text, auth_log_prefix("referral", "pia") +
                            r"Cached NULL password access")

    # R2221-15: a login the home server refuses gets exactly what `proxy`
    # gives (imap-login's own AUTHENTICATIONFAILED line), never a referral.
    def test_failed_proxy_login_is_proxys_reply_R2221_15(self):
        replies = {}
        for user in ("fay", "gus"):
            c = self.connect(self.port)
            try:
                untagged, tagged = c.login("f1", user, "pw-" + user)
                replies[user] = self.wire(untagged, tagged)
            finally:
                c.close()
        self.assertEqual(replies["fay"], b"f1 " + AUTH_FAILED + b"\r\n")
        self.assertEqual(replies["fay"], replies["gus"])

    # R5092-19 / refer_insecure = no: not secured -> insecure_policy (proxy):
    # the proxy's own reply, no referral, still the home server's INBOX.
    def test_insecure_connection_gets_no_hint_R5092_19(self):
        c = self.connect(self.port, secured=False)
        try:
            untagged, tagged = c.login("i1", "pia", "pw-pia")
            self.assertEqual(self.wire(untagged, tagged),
                             b"i1 OK [CAPABILITY " + self.home_caps + b"] Logged in\r\n")
            self.assert_proxied_session(c, "pia")
        finally:
            c.close()

    # R2221-3, D-11: a user whose home is the front logs in here.
    def test_local_user_unaffected_R2221_3(self):
        for port in (self.port, self.suggest_port):
            c = self.connect(port)
            try:
                _, tagged = c.login("l1", "lou", "pw-lou")
                assert_local_login(tagged, "l1")
                self.assertNotIn(b"[REFERRAL", tagged)
            finally:
                c.close()

    # allowed_hosts (REQUIREMENTS §2.6 item 3): neither proxied nor named.
    def test_host_outside_allowed_hosts_rejected(self):
        c = self.connect(self.suggest_port)
        try:
            untagged, tagged = c.login("r1", "rex", "pw-rex")
            self.assertEqual(tagged, b"r1 " + REJECT)
            self.assertNotIn(HOME_OUTSIDE.encode(), b"".join(untagged))
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
