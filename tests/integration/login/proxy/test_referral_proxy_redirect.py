#!/usr/bin/env python3
"""A proxied login whose home server itself answers with a login referral
(docs/dovecot-2.4.md, "2.4's proxy and referrals").

Our passdb decides, from the directory, to PROXY a user to her home server
(default_policy proxy).  Here that home server does not take the login: it
answers `NO [REFERRAL imap://user;AUTH=PLAIN@host:port/]` (a plain Dovecot
with a `nologin host=... port=...` passdb: a server that has moved the
user).  What the client gets:

* Dovecot 2.3 relays the home server's tagged NO [REFERRAL ...] line to the
  client byte for byte and never connects anywhere else (pinned here).
* Dovecot 2.4 FOLLOWS the referral itself (imap-proxy.c parses the URL,
  login-proxy.c reconnects with the same credentials) without asking the
  auth process again (our passdb never sets proxy_redirect_reauth).  The
  front's policy decides where that may go, as for a directory answer:
  - to an address the front may send users to (allowed_hosts, not this
    server): followed; the proxied client, the one that was not referred
    because it may not follow referrals, is logged in there transparently;
  - to an address outside allowed_hosts, or back to this server: NOT
    followed; the login ends with a clean NO, without a URL, and the front
    makes no connection there (a referral back to the front would otherwise
    make it connect to itself over and over);
  - to a host NAME: 2.4 never follows (it does no DNS lookup for a
    redirect): NO [SERVERBUG], nothing about the name reaches the client.

Private servers on 127.0.0.40-44 (front .40, slapd .41, home A .42, home B
.43, home C .44); the lab fixture is needed only for the passdb driver link
(and, on 2.4, the settings module link).  Everything started here is
stopped here, also on failure.
"""
import os
import socket
import time
import unittest

from referral_support import (ImapClient,
                              assert_local_login, build_dir, fresh_source,
                              login_and_read_inbox, PrivateServersTest, private_front_settings, private_dovecot, private_slapd, work_dir)

import lab_dovecot
import lab_process
from dovecot_version import is_24, login_ok_log

FRONT_ADDR = "127.0.0.40"
SLAPD_ADDR = "127.0.0.41"
HOME_A = "127.0.0.42"   # every user's home in the directory; refers them on
HOME_B = "127.0.0.43"   # in allowed_hosts
HOME_C = "127.0.0.44"   # NOT in allowed_hosts
NAMED_HOST = "homeb.lab.test"  # a name: 2.4 follows no redirect to a name

SERVERBUG = b"NO [SERVERBUG] Account is temporarily unavailable."
# The private front's imap-login process_limit: bounds what a redirect loop
# can take (each hop back to the front is one more login process).
FRONT_PROCESS_LIMIT = 10

# user -> where home A refers her (host, port or None for HOME_PORT).
USERS = ("ann", "ben", "cid", "dee")


def ldif():
    out = ["dn: ou=people,dc=example,dc=test\nobjectClass: organizationalUnit\nou: people\n"]
    for user in USERS:
        out.append("dn: uid=%s,ou=people,dc=example,dc=test\nobjectClass: inetOrgPerson\n"
                   "objectClass: inetLocalMailRecipient\nuid: %s\ncn: %s\nsn: Moved\n"
                   "mailHost: %s\n" % (user, user, user, HOME_A))
    return "\n".join(out)


class ProxyRedirectTest(PrivateServersTest):
    @classmethod
    def _instance(cls, name, addr, port, passwd_extra=None, include="", d=None, listeners=""):
        return private_dovecot(cls.cleanups, name, addr, port, [(u, "pw-" + u) for u in USERS],
                               FRONT_ADDR, include=include, listeners=listeners, d=d,
                               passwd_extra=passwd_extra)

    @classmethod
    def _start(cls):
        srv = private_slapd(cls.cleanups, SLAPD_ADDR, ldif(), "moved.ldif")

        cls.front_port = lab_process.pick_port([FRONT_ADDR])
        cls.home_port = lab_process.pick_port([HOME_A, HOME_B, HOME_C], taken={cls.front_port})
        hp = cls.home_port
        # Home A: the directory's home of every user, which has moved them.
        # nodelay: a referral is no failure (no auth_failure_delay).
        cls.targets = {
            "ann": (HOME_B, hp),                  # allowed, IP
            "ben": (HOME_C, hp),                  # outside allowed_hosts, IP
            "cid": (FRONT_ADDR, cls.front_port),  # the front itself: a loop
            "dee": (NAMED_HOST, hp),              # a name, not an address
        }
        cls.home_a = cls._instance("homeA", HOME_A, hp, passwd_extra={
            u: "nologin=y nodelay=y host=%s port=%d" % t for u, t in cls.targets.items()})
        cls.home_b = cls._instance("homeB", HOME_B, hp)
        cls.home_c = cls._instance("homeC", HOME_C, hp)

        fd = work_dir("pxfront")
        settings = private_front_settings(fd, srv.uri, FRONT_ADDR, (HOME_A, HOME_B, NAMED_HOST),
                                          "home_port = %d\n" % hp)
        include = lab_dovecot.conf_passdb_referral(
            settings, "  skip = unauthenticated\n  result_internalfail = return-fail")
        include += lab_dovecot.conf_login_plugin(os.path.join(build_dir(), "plugin", "login"),
                                                 settings)
        cls.front = cls._instance("pxfront", FRONT_ADDR, cls.front_port, include=include, d=fd,
                                  listeners="  process_limit = %d\n" % FRONT_PROCESS_LIMIT)

    def connect(self, port=None):
        sock = socket.create_connection((FRONT_ADDR, port or self.front_port), timeout=15,
                                        source_address=(fresh_source(), 0))
        c = ImapClient(sock, 15)
        c.greeting = c.read_line()
        return c

    def log(self, inst, offset=0):
        with open(inst.log, "r", encoding="utf-8", errors="replace") as f:
            return f.read()[offset:]

    def home_referral(self, tag, user):
        host, port = self.targets[user]
        return b"%s NO [REFERRAL imap://%s;AUTH=PLAIN@%s:%d/]" % (
            tag.encode(), user.encode(), host.encode(), port)

    def login_through_front(self, tag, user):
        """LOGIN at the front: (tagged line, INBOX subject or None, seconds).
        After a successful login the INBOX's welcome message names the
        server.  A connection the front drops gives the tagged line b""."""
        c = self.connect()
        try:
            return login_and_read_inbox(c, tag, user, "pw-" + user)
        finally:
            c.close()

    def assert_relayed(self, tagged, tag, user):
        """2.3: the home server's referral, byte for byte, with its text."""
        expected = self.home_referral(tag, user) + b" "
        self.assertTrue(tagged.startswith(expected), (tagged, expected))
        self.assertGreater(len(tagged), len(expected))

    def assert_clean_refusal(self, tagged, tag, user, front_offset):
        """2.4, a redirect the front's policy does not allow: one tagged NO
        with a response code and no URL, and no redirect loop in the front
        (no login process storm, no Dovecot panic)."""
        host = self.targets[user][0]
        front_log = self.log(self.front, front_offset)
        self.assertTrue(tagged.startswith(tag.encode() + b" NO ["),
                        "expected a clean NO for %s, got %r; front log:\n%s"
                        % (user, tagged, front_log[-3000:]))
        self.assertNotIn(b"REFERRAL", tagged)
        self.assertNotIn(b"imap://", tagged)
        self.assertNotIn(host.encode(), tagged)
        self.assertNotIn("process_limit", front_log)
        self.assertNotIn("Panic:", front_log)

    # An allowed address: 2.3 relays A's referral; 2.4 follows it to B.
    def test_referral_to_an_address_in_allowed_hosts(self):
        offset_b = os.path.getsize(self.home_b.log)
        tagged, subject, _ = self.login_through_front("a1", "ann")
        if not is_24():
            self.assert_relayed(tagged, "a1", "ann")
            self.assertNotIn("user=<ann>", self.log(self.home_b, offset_b))
            return
        assert_local_login(tagged, "a1")
        self.assertEqual(subject, "Welcome to ann's INBOX on homeB")
        # A answered with the referral; B logged ann in, for the front.
        self.assertRegex(self.log(self.home_a), r"auth_nologin_referral\S*: user=<ann>")
        self.assertRegex(self.log(self.home_b, offset_b), login_ok_log("ann"))

    # An address outside allowed_hosts: 2.4 must not follow it (the front
    # never sends a user where a directory answer could not send her).
    def test_referral_to_an_address_outside_allowed_hosts(self):
        offset_c = os.path.getsize(self.home_c.log)
        offset = os.path.getsize(self.front.log)
        tagged, subject, _ = self.login_through_front("b1", "ben")
        if not is_24():
            self.assert_relayed(tagged, "b1", "ben")
        else:
            self.assertIsNone(subject, "followed to %s, outside allowed_hosts" % HOME_C)
            self.assert_clean_refusal(tagged, "b1", "ben", offset)
        self.assertNotIn("user=<ben>", self.log(self.home_c, offset_c))

    # A referral back to the front: 2.4 must not follow it.  Dovecot's own
    # check only compares the redirect with the backend it came from, so a
    # followed redirect to the front starts a new login there, which is
    # proxied to A again, and so on until imap-login's process_limit.
    def test_referral_back_to_the_front_is_not_followed(self):
        offset = os.path.getsize(self.front.log)
        tagged, subject, secs = self.login_through_front("c1", "cid")
        if not is_24():
            self.assert_relayed(tagged, "c1", "cid")
            return
        self.assertIsNone(subject)
        self.assert_clean_refusal(tagged, "c1", "cid", offset)
        self.assertLess(secs, 5.0)

    # A referral to a host name: 2.4 resolves no names for a redirect.
    def test_referral_to_a_host_name_is_not_followed(self):
        offset = os.path.getsize(self.front.log)
        tagged, subject, _ = self.login_through_front("d1", "dee")
        if not is_24():
            self.assert_relayed(tagged, "d1", "dee")
            return
        self.assertEqual(tagged, b"d1 " + SERVERBUG)
        self.assertIsNone(subject)
        # The client learns nothing of the name; the log says why.
        self.assertNotIn(NAMED_HOST.encode(), tagged)
        deadline = time.monotonic() + 10
        while "DNS lookups not supported" not in self.log(self.front, offset):
            self.assertLess(time.monotonic(), deadline, self.log(self.front, offset))
            time.sleep(0.1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
