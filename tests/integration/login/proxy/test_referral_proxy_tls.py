#!/usr/bin/env python3
"""TLS and the timeout of the proxy's connection to the home server
(issue 14 item 6; docs/login-referrals.md, "TLS to the home servers").

The lab's home servers present certificates of the lab's test CA for their
own addresses (tests/lab/lab_tls.py): implicit TLS on HOME_TLS_PORT,
STARTTLS on HOME_PORT.  Private fronts with the passdb driver proxy every
user (default_policy proxy) with:

    tls       proxy_tls = tls       home_port = HOME_TLS_PORT, proxy_timeout = 2s
    starttls  proxy_tls = starttls  home_port = HOME_PORT
    anycert   proxy_tls = starttls  proxy_tls_verify = no

and the front trusts the lab CA the way an administrator sets it up (2.3:
ssl_ca = <file, 2.4: ssl_client_ca_file).  What is checked:

* a proxied IMAP login over TLS and over STARTTLS reads the home server's
  INBOX, and the home server's own login line says the connection was TLS;
* an impostor: a Dovecot on another address presenting a certificate of the
  same CA that names home1, not the address the directory gives.  The tls
  and starttls fronts refuse it (the client gets NO [UNAVAILABLE], the front
  logs why, the impostor sees no login); with proxy_tls_verify = no the same
  impostor is accepted (what the check protects against);
* proxy_timeout: a home server that accepts TCP and never answers; the
  client gets its temporary failure after about 2 s, not Dovecot's 30 s.

Private servers on 127.0.0.120-124 (fronts .120, impostor .121, slapd .122,
silent server .123); the lab fixture for its homes, CA and module links.
Everything started here is stopped here, also on failure.
"""
import os
import poplib
import re
import smtplib
import socket
import time
import unittest

from referral_support import (ImapClient, PrivateServersTest,
                              assert_local_login, fresh_source,
                              login_and_read_inbox, private_dovecot, private_front_settings,
                              private_slapd,
                              read_env, work_dir)

import lab_dovecot
import lab_process
import lab_tls
from dovecot_version import login_ok_log
from tcp_listener import TcpListener

FRONT_ADDR = "127.0.0.120"
IMPOSTOR_ADDR = "127.0.0.121"
SLAPD_ADDR = "127.0.0.122"
SILENT_ADDR = "127.0.0.123"
PROXY_TIMEOUT = 2

UNAVAILABLE = b"NO [UNAVAILABLE] Account is temporarily unavailable."


def ldif(env):
    people = [("alice", env["HOME1_ADDR"]), ("bob", env["HOME2_ADDR"]),
              ("ivan", IMPOSTOR_ADDR), ("tess", SILENT_ADDR)]
    out = ["dn: ou=people,dc=example,dc=test\nobjectClass: organizationalUnit\nou: people\n"]
    for user, host in people:
        out.append("dn: uid=%s,ou=people,dc=example,dc=test\nobjectClass: inetOrgPerson\n"
                   "objectClass: inetLocalMailRecipient\nuid: %s\ncn: %s\nsn: Tls\n"
                   "mailHost: %s\n" % (user, user, user, host))
    return "\n".join(out)


class SilentServer(TcpListener):
    """Accepts TCP connections and never sends a byte (a hung home server)."""


class ProxyTlsTest(PrivateServersTest):
    USERS = [(u, "pw-" + u) for u in ("alice", "bob", "ivan", "tess")]

    @classmethod
    def _front(cls, name, port, settings_extra, services=""):
        e = cls.env
        fd = work_dir(name)
        settings = private_front_settings(
            fd, cls.slapd.uri, FRONT_ADDR,
            (e["HOME1_ADDR"], e["HOME2_ADDR"], IMPOSTOR_ADDR, SILENT_ADDR), settings_extra)
        include = lab_dovecot.conf_passdb_referral(
            settings, "  skip = unauthenticated\n  result_internalfail = return-fail")
        # (No login plugin: proxying needs none, and it is for imap-login
        # only, while these fronts also run pop3-login.)
        # What an administrator adds so that the proxy trusts the homes' CA.
        include += lab_tls.conf_trust_ca(e["LAB_CA_FILE"])
        # The driver logs a proxy decision at debug (Dovecot's own
        # "proxy(...)" lines are the info ones).
        include += "auth_debug = yes\n"
        return private_dovecot(cls.cleanups, name, FRONT_ADDR, port, cls.USERS, FRONT_ADDR,
                               include=include, d=fd, services=services)

    @classmethod
    def _start(cls):
        path = os.environ.get("DREF_LAB_ENV")
        if not path or not os.path.exists(path):
            raise RuntimeError("DREF_LAB_ENV (%r) missing: run through ctest (fixture lab)" % path)
        cls.env = e = read_env(path)
        home_port, tls_port = int(e["HOME_PORT"]), int(e["HOME_TLS_PORT"])
        cls.slapd = private_slapd(cls.cleanups, SLAPD_ADDR, ldif(e), "tls.ldif")

        # The impostor: same ports as the homes, home1's certificate (a
        # valid one of the trusted CA, for another name than 127.0.0.121).
        ca_dir = os.path.dirname(e["LAB_CA_FILE"])
        cert, key = os.path.join(ca_dir, "home1.pem"), os.path.join(ca_dir, "home1.key")
        for port in (home_port, tls_port):
            if not lab_process.port_free(IMPOSTOR_ADDR, port):
                raise RuntimeError("%s:%d is taken" % (IMPOSTOR_ADDR, port))
        lab_ports = {"pop3": int(e["POP3_PORT"]), "lmtp": int(e["LMTP_PORT"])}
        cls.impostor = private_dovecot(
            cls.cleanups, "impostor", IMPOSTOR_ADDR, home_port, cls.USERS, FRONT_ADDR,
            include=lab_tls.conf_tls_server(cert, key),
            listeners=lab_tls.conf_tls_listener("imaps_lab", IMPOSTOR_ADDR, tls_port),
            services=lab_dovecot.conf_protocol_services(IMPOSTOR_ADDR, lab_ports))
        silent = SilentServer(SILENT_ADDR, tls_port)
        cls.cleanups.append(silent.stop)

        ports = set()
        cls.fronts = {}
        for name, extra in (
                ("tls", "proxy_tls = tls\nhome_port = %d\nproxy_timeout = %ds\n"
                 % (tls_port, PROXY_TIMEOUT)),
                ("starttls", "proxy_tls = starttls\nhome_port = %d\n" % home_port),
                ("anycert", "proxy_tls = starttls\nproxy_tls_verify = no\nhome_port = %d\n"
                 % home_port)):
            port = lab_process.pick_port([FRONT_ADDR], taken=ports)
            ports.add(port)
            services = ""
            if name == "starttls":
                # POP3 (STLS) and LMTP (STARTTLS) to the lab homes' ports.
                fports = {}
                for proto in ("pop3", "lmtp"):
                    fports[proto] = lab_process.pick_port([FRONT_ADDR], taken=ports)
                    ports.add(fports[proto])
                cls.front_ports = fports
                services = lab_dovecot.conf_protocol_services(FRONT_ADDR, fports,
                                                              "lmtp_proxy = yes\n")
                extra += "home_pop3_port = %d\nhome_lmtp_port = %d\n" % (
                    lab_ports["pop3"], lab_ports["lmtp"])
            cls.fronts[name] = cls._front("front-" + name, port, extra, services)
        cls.homes = {"home1": e["HOME1_LOG"], "home2": e["HOME2_LOG"]}

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def read(path, offset=0):
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            f.seek(offset)
            return f.read()

    def login_through(self, front, user, tag="a1"):
        """(tagged, INBOX subject or None, seconds) of a LOGIN at `front`."""
        sock = socket.create_connection((FRONT_ADDR, front.port), timeout=30,
                                        source_address=(fresh_source(), 0))
        c = ImapClient(sock, 30)
        try:
            c.greeting = c.read_line()
            return login_and_read_inbox(c, tag, user, "pw-" + user)
        finally:
            c.close()

    def wait_for(self, path, offset, pattern, what):
        deadline = time.monotonic() + 10
        while True:
            text = self.read(path, offset)
            m = re.search(pattern, text)
            if m:
                return m
            self.assertLess(time.monotonic(), deadline,
                            "%s: no %r in %s:\n%s" % (what, pattern, path, text[-3000:]))
            time.sleep(0.1)

    def assert_tls_session(self, front_name, user, home):
        front = self.fronts[front_name]
        home_log = self.homes[home]
        offset = os.path.getsize(home_log)
        front_offset = os.path.getsize(front.log)
        tagged, subject, _ = self.login_through(front, user)
        assert_local_login(tagged, "a1")
        self.assertEqual(subject, "Welcome to %s's INBOX on %s" % (user, home))
        # The home server's login line: the proxy's connection was TLS.
        line = self.wait_for(home_log, offset, login_ok_log(user) + r"[^\n]*", "home login")
        self.assertRegex(line.group(0), r", TLS[,:]", line.group(0))
        # The driver's log line names the mode.
        mode = "TLS" if front_name == "tls" else "STARTTLS"
        self.wait_for(front.log, front_offset,
                      r"proxy to %s:\d+ over %s" % (re.escape(self.env[home.upper() + "_ADDR"]), mode),
                      "driver log")

    # ---------------------------------------------------------------- tests
    def test_imap_over_tls(self):
        self.assert_tls_session("tls", "alice", "home1")
        self.assert_tls_session("tls", "bob", "home2")

    def test_imap_over_starttls(self):
        self.assert_tls_session("starttls", "alice", "home1")
        self.assert_tls_session("starttls", "bob", "home2")

    def assert_impostor_refused(self, front_name):
        front = self.fronts[front_name]
        offset = os.path.getsize(front.log)
        imp_offset = os.path.getsize(self.impostor.log)
        tagged, subject, _ = self.login_through(front, "ivan")
        self.assertEqual(tagged, b"a1 " + UNAVAILABLE, self.read(front.log, offset)[-3000:])
        self.assertIsNone(subject)
        # The front's log says why: the certificate does not name 127.0.0.121.
        m = self.wait_for(front.log, offset, r"proxy\(ivan,%s:\d+\)[^\n]*" % re.escape(IMPOSTOR_ADDR),
                          "proxy failure")
        self.assertRegex(m.group(0), r"(?i)certificate|ssl|tls", m.group(0))
        self.assertNotIn("user=<ivan>", self.read(self.impostor.log, imp_offset))
        return m.group(0)

    def test_certificate_for_another_name_is_refused_tls(self):
        line = self.assert_impostor_refused("tls")
        self.assertIn("did not match", line)

    def test_certificate_for_another_name_is_refused_starttls(self):
        self.assert_impostor_refused("starttls")

    # With the check off the same impostor gets the session (and the
    # password): what proxy_tls_verify = yes, the default, prevents.
    def test_without_verification_the_impostor_is_accepted(self):
        offset = os.path.getsize(self.impostor.log)
        tagged, subject, _ = self.login_through(self.fronts["anycert"], "ivan")
        assert_local_login(tagged, "a1")
        self.assertEqual(subject, "Welcome to ivan's INBOX on impostor")
        line = self.wait_for(self.impostor.log, offset, login_ok_log("ivan") + r"[^\n]*",
                             "impostor login")
        self.assertRegex(line.group(0), r", TLS[,:]")

    # POP3 over STLS: the home server's INBOX, its pop3-login says TLS; the
    # impostor is refused with POP3's temporary failure.
    def test_pop3_over_starttls(self):
        front = self.fronts["starttls"]
        offset = os.path.getsize(self.homes["home1"])
        p = poplib.POP3(FRONT_ADDR, self.front_ports["pop3"], timeout=30)
        try:
            p.user("alice")
            self.assertTrue(p.pass_("pw-alice").startswith(b"+OK"))
            _, lines, _ = p.retr(1)
            self.assertIn(b"Subject: Welcome to alice's INBOX on home1", lines)
        finally:
            p.quit()
        line = self.wait_for(self.homes["home1"], offset, r"pop3-login: Info: "
                             + login_ok_log("alice") + r"[^\n]*", "home pop3 login").group(0)
        self.assertRegex(line, r", TLS[,:]", line)
        p = poplib.POP3(FRONT_ADDR, self.front_ports["pop3"], timeout=30)
        try:
            p.user("ivan")
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_("pw-ivan")
            self.assertIn(b"[SYS/TEMP]", cm.exception.args[0])
        finally:
            p.close()
        self.wait_for(front.log, 0, r"pop3-login: [^\n]*proxy\(ivan,[^\n]*did not match", "pop3 refusal")

    # LMTP over STARTTLS: delivered into home1's Maildir; a recipient whose
    # home presents another server's certificate gets a temporary failure.
    def test_lmtp_over_starttls(self):
        front = self.fronts["starttls"]
        token = "lmtp-tls-%d-%d" % (os.getpid(), int(time.monotonic() * 1000))
        maildir = os.path.join(os.path.dirname(os.path.dirname(self.homes["home1"])), "mail",
                               "alice", "Maildir", "new")
        l = smtplib.LMTP(FRONT_ADDR, self.front_ports["lmtp"], timeout=30)
        try:
            l.ehlo("dref-test")
            refused = l.sendmail("sender@example.test", ["alice"],
                                 "Subject: %s\r\n\r\nover STARTTLS\r\n" % token)
            self.assertEqual(refused, {})
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                l.sendmail("sender@example.test", ["ivan"], "Subject: %s-ivan\r\n\r\nx\r\n" % token)
            code = cm.exception.recipients["ivan"][0]
            self.assertTrue(400 <= code < 500, cm.exception.recipients)
        finally:
            l.quit()
        deadline = time.monotonic() + 10
        while not any(token in self.read(os.path.join(maildir, f)) for f in os.listdir(maildir)):
            self.assertLess(time.monotonic(), deadline, "no %s in %s" % (token, maildir))
            time.sleep(0.1)
        self.wait_for(front.log, 0, r"proxy to %s:%d over STARTTLS" % (
            re.escape(self.env["HOME1_ADDR"]), int(self.env["LMTP_PORT"])), "driver log")
        self.wait_for(front.log, 0, r"lmtp[^\n]*did not match[^\n]*", "lmtp refusal")
        impostor_mail = os.path.join(self.impostor.dir, "mail", "ivan", "Maildir", "new")
        self.assertFalse(any(token in self.read(os.path.join(impostor_mail, f))
                             for f in os.listdir(impostor_mail)))

    def test_proxy_timeout(self):
        front = self.fronts["tls"]
        offset = os.path.getsize(front.log)
        tagged, subject, secs = self.login_through(front, "tess")
        self.assertEqual(tagged, b"a1 " + UNAVAILABLE)
        self.assertIsNone(subject)
        # Dovecot's default (login_proxy_timeout) would be 30 s.
        print("proxy_timeout = %ds: temporary failure after %.2f s" % (PROXY_TIMEOUT, secs))
        self.assertGreaterEqual(secs, PROXY_TIMEOUT - 0.5)
        self.assertLess(secs, PROXY_TIMEOUT + 10)
        self.wait_for(front.log, offset, r"proxy\(tess,%s:\d+\)[^\n]*(?i:timed out|timeout)"
                      % re.escape(SILENT_ADDR), "timeout log")


if __name__ == "__main__":
    unittest.main(verbosity=2)
