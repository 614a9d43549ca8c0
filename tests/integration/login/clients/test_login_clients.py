#!/usr/bin/env python3
"""What real IMAP clients do with each login policy (issue 11 items 2-3).

One private front Dovecot with our passdb and login plugin, one listener per
policy (listener_rule), two home Dovecots, a private slapd.  Every user's
home server is one of the homes.  Each client logs in at the front on each
policy's listener and tries to read message 1 of its INBOX, whose Subject
names the server it lives on.  Outcomes:

  home     it ended connected straight to its home server, reading its own
           INBOX there (checked on the home server: the session's TCP peer
           is the client's own socket, not the front)
  proxied  it reads its own INBOX through the front
  front    it is logged in at the front and reads the front's INBOX, not
           its own (the front has mailboxes of its own for every user)
  fails    it does not get logged in

The clients: the UW c-client probe (tests/clients/cclient_probe.c, an
application with a referral callback as Alpine's), Python imaplib, curl,
and isync's mbsync in batch mode; what each does is pinned in EXPECTED
(../shared/design/CLIENTS.md says the same from their sources).  The
measured table is printed at the end and written to
<build>/client-policy-table.md (docs/login-referrals.md has it, with the
choice of the shipped default_policy it supports).

Requirements: R2221-6 (NO and OK referrals), R2221-9 (a NO referral logs
nobody in), R2221-10 (an OK referral is a login), R2221-12, D-13 (one tagged
reply), D-14 (c-client retries AUTHENTICATE after a NO referral, then
follows).

Private servers on 127.0.0.90-93 (front, home1, home2, slapd;
DREF_CLIENTS_ADDR_BASE moves them); the lab fixture only for the module
links.  Everything started here is stopped here, also on failure.
"""
import os
import subprocess
import time
import unittest

from referral_support import (PrivateServersTest, build_dir, private_dovecot,
                              private_slapd, work_dir)
import client_runners as clients

import lab_dovecot
import lab_process
import slapd_server

BASE = int(os.environ.get("DREF_CLIENTS_ADDR_BASE", "90"))
FRONT_ADDR, HOME1_ADDR, HOME2_ADDR, SLAPD_ADDR = ("127.0.0.%d" % (BASE + i) for i in range(4))

# Every policy a login can get (plugin/core referral_policy.h).
POLICIES = ("refer", "suggest", "proxy", "proxy-suggest", "local")
CLIENTS = ("c-client", "imaplib", "curl", "mbsync")
# One user per client, so that a home server's sessions of a user are that
# client's.  user -> home
USERS = {"cora": "home1", "ivan": "home2", "curt": "home1", "mia": "home2"}
CLIENT_USER = {"c-client": "cora", "imaplib": "ivan", "curl": "curt", "mbsync": "mia"}

HOME, PROXIED, FRONT, FAILS = "home", "proxied", "front", "fails"
# Only c-client follows a referral (REFAUTHFAILED for NO, REFAUTH for OK);
# every other client fails on NO [REFERRAL] and ignores OK [REFERRAL].
EXPECTED = {
    "c-client": {"refer": HOME, "suggest": HOME, "proxy": PROXIED, "proxy-suggest": HOME,
                 "local": FRONT},
    "imaplib": {"refer": FAILS, "suggest": FRONT, "proxy": PROXIED, "proxy-suggest": PROXIED,
                "local": FRONT},
    "curl": {"refer": FAILS, "suggest": FRONT, "proxy": PROXIED, "proxy-suggest": PROXIED,
             "local": FRONT},
    "mbsync": {"refer": FAILS, "suggest": FRONT, "proxy": PROXIED, "proxy-suggest": PROXIED,
               "local": FRONT},
}
# The c-client referral callback's code for each referring policy.
CCLIENT_CODE = {"refer": "REFAUTHFAILED", "suggest": "REFAUTH", "proxy-suggest": "REFAUTH"}

PROBE_HINT = ("the c-client probe is missing: the 2.3 build makes it from libc-client2007e-dev "
              "(scripts/install-deps.sh), the 2.4 run needs scripts/cclient-probe.sh "
              "<build>/cclient-probe (scripts/test.sh does it)")


def ldif(homes):
    out = ["dn: ou=people,dc=example,dc=test\nobjectClass: organizationalUnit\nou: people\n"]
    for user, home in sorted(USERS.items()):
        out.append("dn: uid=%s,ou=people,dc=example,dc=test\nobjectClass: inetOrgPerson\n"
                   "objectClass: inetLocalMailRecipient\nuid: %s\ncn: %s\nsn: Client\n"
                   "mailHost: %s\n" % (user, user, user, homes[home]))
    return "\n".join(out)


class LoginClientsTest(PrivateServersTest):
    measured = {}

    @classmethod
    def setUpClass(cls):
        # No probe, no run: the test fails (an error), it never skips.
        cls.probe = os.environ.get("DREF_CCLIENT_PROBE", "")
        if not (cls.probe and os.access(cls.probe, os.X_OK)):
            raise AssertionError("%s (DREF_CCLIENT_PROBE=%r)" % (PROBE_HINT, cls.probe))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._write_table()

    @classmethod
    def _instance(cls, name, addr, port, include="", listeners="", d=None):
        return private_dovecot(cls.cleanups, name, addr, port,
                               [(u, "pw-" + u) for u in sorted(USERS)], FRONT_ADDR,
                               include=include, listeners=listeners, d=d)

    @classmethod
    def _start(cls):
        srv = private_slapd(cls.cleanups, SLAPD_ADDR,
                            ldif({"home1": HOME1_ADDR, "home2": HOME2_ADDR}), "clients.ldif")

        cls.home_port = lab_process.pick_port([HOME1_ADDR, HOME2_ADDR])
        cls.homes = {"home1": cls._instance("home1", HOME1_ADDR, cls.home_port),
                     "home2": cls._instance("home2", HOME2_ADDR, cls.home_port)}

        taken = {cls.home_port}
        cls.ports = {}
        for policy in POLICIES:
            cls.ports[policy] = lab_process.pick_port([FRONT_ADDR], taken=taken)
            taken.add(cls.ports[policy])
        fd = work_dir("clfront")
        cls.workdir = fd
        settings = os.path.join(fd, "dovecot-referral.conf.ext")
        rules = "".join("listener_rule = %s %s:%d\n" % (p, FRONT_ADDR, cls.ports[p])
                        for p in POLICIES)
        with open(settings, "w", encoding="utf-8") as f:
            f.write("ldap_uris = %s\nldap_bind_dn = %s\nldap_bind_password = %s\n"
                    "user_base = ou=people,dc=example,dc=test\nhome_port = %d\n"
                    "cache_ttl = 1s\nnegative_cache_ttl = 1s\nlocal_names = %s\n"
                    "allowed_hosts = %s %s\n%s"
                    % (srv.uri, slapd_server.ROOT_DN, slapd_server.ROOT_PASSWORD,
                       cls.home_port, FRONT_ADDR, HOME1_ADDR, HOME2_ADDR, rules))
        os.chmod(settings, 0o644)
        include = lab_dovecot.conf_passdb_referral(
            settings, "  skip = unauthenticated\n  result_internalfail = return-fail")
        include += lab_dovecot.conf_login_plugin(os.path.join(build_dir(), "plugin", "login"),
                                                 settings)
        # The first policy on the instance's own listener, the others on more.
        listeners = "".join(lab_dovecot.conf_inet_listener("pol%d" % i, FRONT_ADDR,
                                                           cls.ports[p])
                            for i, p in enumerate(POLICIES) if i > 0)
        cls.front = cls._instance("clfront", FRONT_ADDR, cls.ports[POLICIES[0]],
                                  include=include, listeners=listeners, d=fd)

    # ------------------------------------------------------------ helpers
    def subject_on(self, user, server):
        return "Welcome to %s's INBOX on %s" % (user, server)

    def classify(self, client, user, result, home_check=None):
        """Outcome of one client's attempt.  home_check: for c-client, what
        the home server's side of its session showed (HOME or PROXIED)."""
        if not result.ok:
            return FAILS
        if result.subject == self.subject_on(user, "clfront"):
            return FRONT
        if result.subject == self.subject_on(user, USERS[user]):
            return home_check or PROXIED
        return "unexpected subject %r" % result.subject

    def home_session_peer(self, user):
        """On the user's home server: the pids of the user's imap sessions
        (doveadm who) and the far ends of their TCP connections ("addr:port"
        of the client side).  Polls briefly: the session must be there."""
        home = self.homes[USERS[user]]
        deadline = time.monotonic() + 10
        while True:
            p = subprocess.run(["doveadm", "-c", home.conf, "-f", "tab", "who", "-1", user],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
            rows = [l.split("\t") for l in p.stdout.decode("utf-8", "replace").splitlines()]
            pids = set()
            if p.returncode == 0 and rows and "pid" in rows[0]:
                col = rows[0].index("pid")
                pids = {int(r[col]) for r in rows[1:] if len(r) > col and r[col].isdigit()}
            local = "%s:%d" % (home.addr, home.port)
            peers = {peer for lo, peer, owners in clients.tcp_connections()
                     if lo == local and owners & pids}
            if peers or time.monotonic() > deadline:
                return pids, peers, p.stdout.decode("utf-8", "replace")
            time.sleep(0.2)

    def owners_of(self, endpoint):
        return set().union(*[owners for lo, _, owners in clients.tcp_connections()
                             if lo == endpoint] or [set()])

    def run_cclient(self, policy):
        """The probe at the policy's listener; (outcome, probe).  While it is
        connected, the home server is asked who its session's peer is."""
        user = CLIENT_USER["c-client"]
        probe = clients.CClientProbe(self.probe, FRONT_ADDR, self.ports[policy], user,
                                     "pw-" + user)
        try:
            check = None
            if probe.ready:
                pids, peers, who = self.home_session_peer(user)
                owners = set().union(*[self.owners_of(peer) for peer in peers] or [set()])
                if probe.pid in owners:
                    check = HOME
                elif peers:
                    # Its session there belongs to the front's proxy.
                    check = PROXIED
                    self.assertNotIn(probe.pid, owners)
                probe.home_who = who
            outcome = self.classify("c-client", user, probe.result(), check)
        finally:
            rc = probe.quit()
        self.assertIn(rc, (0, 1), probe.lines)
        return outcome, probe

    def run_other(self, client, policy):
        user = CLIENT_USER[client]
        port = self.ports[policy]
        if client == "imaplib":
            r = clients.run_imaplib(FRONT_ADDR, port, user, "pw-" + user)
        elif client == "curl":
            r = clients.run_curl(FRONT_ADDR, port, user, "pw-" + user)
        else:
            r = clients.run_mbsync(FRONT_ADDR, port, user, "pw-" + user, self.workdir)
        return self.classify(client, user, r), r

    def referral_url(self, user):
        return "imap://%s;AUTH=*@%s:%d/" % (user, self.homes[USERS[user]].addr, self.home_port)

    def check_policy(self, policy):
        got = {}
        details = {}
        outcome, probe = self.run_cclient(policy)
        got["c-client"], details["c-client"] = outcome, "\n".join(probe.lines)
        for client in CLIENTS[1:]:
            got[client], details[client] = self.run_other(client, policy)
        for client in CLIENTS:
            self.measured.setdefault(client, {})[policy] = got[client]
        for client in CLIENTS:
            self.assertEqual(got[client], EXPECTED[client][policy],
                             "%s on %s: %s" % (client, policy, details[client]))
        # c-client followed exactly the referral the policy gives, with the
        # callback code of a NO or an OK referral (R2221-6).
        user = CLIENT_USER["c-client"]
        if policy in CCLIENT_CODE:
            self.assertEqual(probe.values("referral"),
                             ["%s %s" % (CCLIENT_CODE[policy], self.referral_url(user))],
                             probe.lines)
            self.assertTrue(probe.value("opened").startswith(
                "{%s:%d/imap" % (self.homes[USERS[user]].addr, self.home_port)), probe.lines)
        else:
            self.assertEqual(probe.values("referral"), [], probe.lines)
            self.assertTrue(probe.value("opened").startswith(
                "{%s:%d/imap" % (FRONT_ADDR, self.ports[policy])), probe.lines)
        self.assertNotRegex(self.front_log(), r"(Panic|Fatal):|killed with signal")
        return details

    def front_log(self):
        with open(self.front.log, "r", encoding="utf-8", errors="replace") as f:
            return f.read()

    # ------------------------------------------------------------ tests
    # refer: NO [REFERRAL] (R2221-9, R2221-12).  c-client retries
    # AUTHENTICATE, then follows (D-14); everybody else fails to log in.
    def test_refer(self):
        details = self.check_policy("refer")
        self.assertIn("[REFERRAL %s]" % self.referral_url("ivan"), details["imaplib"].detail)
        self.assertIn("Login denied", details["curl"].detail)

    # suggest: OK [REFERRAL] on a local login (R2221-10): c-client moves to
    # its home server, everybody else stays logged in at the front and sees
    # the front's INBOX.
    def test_suggest(self):
        details = self.check_policy("suggest")
        self.assertIn("[REFERRAL %s]" % self.referral_url("ivan"), details["imaplib"].detail)

    # proxy: every client reads its own INBOX through the front; c-client
    # included (no referral to follow).
    def test_proxy(self):
        self.check_policy("proxy")

    # local: the directory is ignored; everybody reads the front's INBOX.
    def test_local(self):
        self.check_policy("local")

    # proxy-suggest (issue 11): proxied as proxy, and the login's tagged OK
    # carries the referral (R2221-10, D-13): c-client moves to its home
    # server, every other client keeps its proxied session and reads its
    # own INBOX through the front.
    def test_proxy_suggest(self):
        details = self.check_policy("proxy-suggest")
        self.assertIn("[REFERRAL %s]" % self.referral_url("ivan"), details["imaplib"].detail)

    # The "done when": in one run, c-client connected straight to its
    # home server while imaplib and curl read their INBOX through the front,
    # all on proxy-suggest and at the same time.
    def test_proxy_suggest_all_at_once(self):
        port = self.ports["proxy-suggest"]
        user = CLIENT_USER["c-client"]
        probe = clients.CClientProbe(self.probe, FRONT_ADDR, port, user, "pw-" + user)
        try:
            self.assertTrue(probe.ready, probe.lines)
            _, peers, who = self.home_session_peer(user)
            self.assertTrue(peers, "no session of %s on %s:\n%s" % (user, USERS[user], who))
            owners = set().union(*[self.owners_of(peer) for peer in peers])
            self.assertIn(probe.pid, owners, "c-client's session on %s is not its own "
                          "connection (peers %r)" % (USERS[user], peers))
            for client, run in (("imaplib", clients.run_imaplib), ("curl", clients.run_curl)):
                u = CLIENT_USER[client]
                r = run(FRONT_ADDR, port, u, "pw-" + u)
                self.assertEqual(self.classify(client, u, r), PROXIED, r)
            # The probe is still there, on its home server.
            self.assertIsNone(probe.proc.poll())
            self.assertIn(probe.pid, set().union(*[self.owners_of(peer) for peer in
                                                   self.home_session_peer(user)[1]]))
        finally:
            self.assertEqual(probe.quit(), 0, probe.lines)

    @classmethod
    def _write_table(cls):
        if not cls.measured:
            return
        head = "| client | " + " | ".join("`%s`" % p for p in POLICIES) + " |"
        lines = [head, "|---" * (len(POLICIES) + 1) + "|"]
        for client in CLIENTS:
            row = cls.measured.get(client, {})
            lines.append("| %s | " % client + " | ".join(row.get(p, "-") for p in POLICIES) + " |")
        table = "\n".join(lines) + "\n"
        print("\nmeasured (client x policy):\n" + table)
        try:
            with open(os.path.join(build_dir(), "client-policy-table.md"), "w",
                      encoding="utf-8") as f:
                f.write(table)
        except OSError:
            pass


if __name__ == "__main__":
    unittest.main(verbosity=2)
