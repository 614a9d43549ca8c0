#!/usr/bin/env python3
"""ManageSieve, submission and doveadm through the front reach the user's
home server (issue 14 items 4 and 5; docs/protocols.md), in clear and over
STARTTLS with the home's certificate verified (item 6).

Servers (private, on 127.0.0.125-128; the lab fixture only for the module
links): a slapd with alice (home = the home server) and carol (home = the
front); a home Dovecot with IMAP, ManageSieve, submission and a doveadm
listener, TLS from a CA this test makes with openssl, relaying submitted
mail to an SMTP sink (tests/support/smtp_sink.py: Dovecot's submission
service needs a relay MTA and the machines have none); two fronts with the
passdb driver (default_policy proxy), one with proxy_tls = none, one with
proxy_tls = starttls, each with doveadm_port / doveadm_password.

Real clients: sieve-connect (PUTSCRIPT), Python smtplib (AUTH PLAIN, mail),
doveadm on the front (mailbox list, fetch).  What lands where is checked on
the home server (its files, its log, the sink) and never on the front.
Everything started here is stopped here, also on failure.
"""
import os
import re
import smtplib
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "login"))
from referral_support import (PrivateServersTest, private_dovecot,  # noqa: E402
                              private_front_settings, private_slapd, work_dir)

import lab_dovecot  # noqa: E402
import lab_process  # noqa: E402
import lab_tls  # noqa: E402
from dovecot_processes import restart_auth  # noqa: E402
from dovecot_version import is_24, login_ok_log  # noqa: E402
from smtp_sink import SmtpSink  # noqa: E402

FRONT_ADDR = "127.0.0.125"
HOME_ADDR = "127.0.0.126"
SLAPD_ADDR = "127.0.0.127"
SINK_ADDR = "127.0.0.128"
USERS = [("alice", "pw-alice"), ("carol", "pw-carol")]
DOVEADM_PASSWORD = "lab-doveadm-secret"
HOME_ONLY_MAILBOX = "OnlyOnHome"
SCRIPT = 'require "fileinto";\nif header :contains "subject" "lab" { fileinto "Lab"; }\n'
MODES = ("none", "starttls")


def ldif():
    out = ["dn: ou=people,dc=example,dc=test\nobjectClass: organizationalUnit\nou: people\n"]
    for user, host in (("alice", HOME_ADDR), ("carol", FRONT_ADDR)):
        out.append("dn: uid=%s,ou=people,dc=example,dc=test\nobjectClass: inetOrgPerson\n"
                   "objectClass: inetLocalMailRecipient\nuid: %s\ncn: %s\nsn: Proto\n"
                   "mailHost: %s\n" % (user, user, user, host))
    return "\n".join(out)


def conf_protocols(addr, sieve_port, submission_port, relay_port):
    """ManageSieve and submission on addr, submission relayed to the sink,
    the doveadm password (2.3 or 2.4 syntax)."""
    key = "listen" if is_24() else "address"
    out = ("protocols {\n  sieve = yes\n  submission = yes\n}\n" if is_24()
           else "protocols = $protocols sieve submission\n")
    out += ("service managesieve-login {\n  inet_listener sieve {\n    %s = %s\n    port = %d\n"
            "  }\n}\n" % (key, addr, sieve_port))
    out += ("service submission-login {\n  inet_listener submission {\n    %s = %s\n"
            "    port = %d\n  }\n  inet_listener submissions {\n    port = 0\n  }\n}\n"
            % (key, addr, submission_port))
    out += "submission_relay_host = %s\nsubmission_relay_port = %d\n" % (SINK_ADDR, relay_port)
    out += "doveadm_password = %s\n" % DOVEADM_PASSWORD
    return out


def conf_sieve_storage():
    if is_24():
        return ("sieve_script personal {\n  driver = file\n  path = ~/sieve\n"
                "  active_path = ~/.dovecot.sieve\n}\n")
    return "plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n"


class ProtocolsThroughFrontTest(PrivateServersTest):
    @classmethod
    def _start(cls):
        cls.slapd = private_slapd(cls.cleanups, SLAPD_ADDR, ldif(), "protocols.ldif")
        ports = {}
        for k in ("imap", "sieve", "submission", "doveadm", "relay"):
            ports[k] = lab_process.pick_port([HOME_ADDR, SINK_ADDR], taken=set(ports.values()))
        cls.ports = ports
        cls.sink = SmtpSink(SINK_ADDR, ports["relay"])
        cls.cleanups.append(cls.sink.stop)

        tls_dir = work_dir("protocols-tls")
        ca = lab_tls.make_ca(tls_dir)
        cert, key = lab_tls.make_cert(ca, "home", ips=[HOME_ADDR])
        addr_key = "listen" if is_24() else "address"
        home_conf = (conf_protocols(HOME_ADDR, ports["sieve"], ports["submission"], ports["relay"])
                     + conf_sieve_storage() + lab_tls.conf_tls_server(cert, key)
                     + "service doveadm {\n  inet_listener doveadm {\n    %s = %s\n    port = %d\n"
                       "  }\n}\n" % (addr_key, HOME_ADDR, ports["doveadm"]))
        cls.home = private_dovecot(cls.cleanups, "home", HOME_ADDR, ports["imap"], USERS,
                                   FRONT_ADDR, include=home_conf)
        # A mailbox only the home server has: doveadm output that names it
        # came from there.
        cls.home.add_mailbox("alice", HOME_ONLY_MAILBOX, "alice's mailbox on the home server")
        cls.home.finish_prepare()

        cls.fronts = {}
        taken = set()
        for mode in MODES:
            fports = {}
            for k in ("imap", "sieve", "submission"):
                fports[k] = lab_process.pick_port([FRONT_ADDR], taken=taken)
                taken.add(fports[k])
            fd = work_dir("pfront-" + mode)
            settings = private_front_settings(
                fd, cls.slapd.uri, FRONT_ADDR, (HOME_ADDR,),
                "home_port = %d\nldap_timeout = 1s\nhome_managesieve_port = %d\n"
                "home_submission_port = %d\nhome_doveadm_port = %d\nproxy_tls = %s\n"
                % (ports["imap"], ports["sieve"], ports["submission"], ports["doveadm"], mode))
            include = lab_dovecot.conf_passdb_referral(
                settings, "  skip = unauthenticated\n  result_internalfail = return-fail")
            include += conf_protocols(FRONT_ADDR, fports["sieve"], fports["submission"],
                                      ports["relay"])
            include += lab_tls.conf_trust_ca(ca["cert"])
            # doveadm -u USER on the front asks the passdb whether USER is
            # proxied, and where (docs/protocols.md, "doveadm").
            include += "doveadm_port = %d\n" % ports["doveadm"]
            front = private_dovecot(cls.cleanups, "pfront-" + mode, FRONT_ADDR,
                                    fports["imap"], USERS, FRONT_ADDR, include=include, d=fd)
            front.ports = fports
            cls.fronts[mode] = front
        cls.cleanups.append(lambda: [] if os.environ.get("DREF_KEEP_TEST_DIRS") else
                            (__import__("shutil").rmtree(tls_dir, ignore_errors=True), [])[1])

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def read(path, offset=0):
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            f.seek(offset)
            return f.read()

    def wait_for(self, path, offset, pattern, what):
        deadline = time.monotonic() + 10
        while True:
            m = re.search(pattern, self.read(path, offset))
            if m:
                return m
            self.assertLess(time.monotonic(), deadline, "%s: no %r in %s:\n%s"
                            % (what, pattern, path, self.read(path, offset)[-3000:]))
            time.sleep(0.1)

    def assert_home_login(self, service, offset, mode):
        """The home server's login line of `service` for alice; over TLS
        exactly when the front's proxy_tls asks for it."""
        line = self.wait_for(self.home.log, offset, r"%s: Info: %s[^\n]*" % (
            re.escape(service), login_ok_log("alice")), service + " login on the home").group(0)
        if mode == "none":
            self.assertNotRegex(line, r", TLS[,:]", line)
        else:
            self.assertRegex(line, r", TLS[,:]", line)

    def doveadm(self, front, *args):
        p = subprocess.run(["doveadm", "-c", front.conf] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8",
                                                                                   "replace")

    # ---------------------------------------------------------------- tests
    def test_managesieve_putscript_lands_on_the_home_server(self):
        for mode in MODES:
            with self.subTest(proxy_tls=mode):
                front = self.fronts[mode]
                name = "lab-" + mode
                local = os.path.join(front.dir, name + ".sieve")
                with open(local, "w", encoding="utf-8") as f:
                    f.write(SCRIPT)
                offset = os.path.getsize(self.home.log)
                p = subprocess.run(
                    ["sieve-connect", "--server", FRONT_ADDR, "--port", str(front.ports["sieve"]),
                     "--user", "alice", "--passwordfd", "0",
                     # The client's leg to the front is plaintext here (the
                     # front offers no TLS): allow it explicitly.
                     "--clearchan",
                     "--localsieve", local, "--remotesieve", name, "--upload"],
                    input=b"pw-alice\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    timeout=60)
                out = p.stdout.decode("utf-8", "replace")
                self.assertEqual(p.returncode, 0, out)
                on_home = os.path.join(self.home.dir, "mail", "alice", "sieve", name + ".sieve")
                with open(on_home, encoding="utf-8") as f:
                    self.assertEqual(f.read(), SCRIPT)
                self.assertFalse(os.path.exists(os.path.join(front.dir, "mail", "alice", "sieve")))
                self.assert_home_login("managesieve-login", offset, mode)

    def test_submission_is_relayed_by_the_home_server(self):
        for mode in MODES:
            with self.subTest(proxy_tls=mode):
                front = self.fronts[mode]
                offset = os.path.getsize(self.home.log)
                before = len(self.sink.messages)
                subject = "lab submission through the front (%s)" % mode
                s = smtplib.SMTP(FRONT_ADDR, front.ports["submission"], timeout=30)
                try:
                    s.ehlo("client.lab.test")
                    code, _ = s.login("alice", "pw-alice")
                    self.assertEqual(code, 235)
                    refused = s.sendmail("alice@example.test", ["bob@example.test"],
                                         "From: alice@example.test\r\nTo: bob@example.test\r\n"
                                         "Subject: %s\r\n\r\nHello.\r\n" % subject)
                    self.assertEqual(refused, {})
                finally:
                    s.quit()
                self.assert_home_login("submission-login", offset, mode)
                # The home server relayed it (its submission service adds its
                # Received line and logs the relay).
                self.wait_for(self.home.log, offset, r"submission\(alice\)[^\n]*Successfully "
                              r"relayed message", "relay on the home")
                new = self.sink.messages[before:]
                self.assertEqual(len(new), 1, new)
                self.assertIn(subject.encode(), new[0]["data"])
                self.assertIn("<bob@example.test>", new[0]["rcpt"][0])

    def test_doveadm_on_the_front_runs_on_the_home_server(self):
        for mode in MODES:
            with self.subTest(proxy_tls=mode):
                front = self.fronts[mode]
                rc, out, err = self.doveadm(front, "mailbox", "list", "-u", "alice")
                self.assertEqual(rc, 0, err)
                self.assertIn(HOME_ONLY_MAILBOX, out.split(), out)
                rc, out, err = self.doveadm(front, "fetch", "-u", "alice", "hdr.subject",
                                            "mailbox", "INBOX", "all")
                self.assertEqual(rc, 0, err)
                self.assertIn("Welcome to alice's INBOX on home", out)
                # carol's home is the front: doveadm runs here.
                rc, out, err = self.doveadm(front, "fetch", "-u", "carol", "hdr.subject",
                                            "mailbox", "INBOX", "all")
                self.assertEqual(rc, 0, err)
                self.assertIn("Welcome to carol's INBOX on pfront-" + mode, out)
                self.assertNotIn(HOME_ONLY_MAILBOX,
                                 self.doveadm(front, "mailbox", "list", "-u", "carol")[1])

    # Directory down and no answer for alice to fall back on (a new auth
    # process: the driver's last answer of a user serves however old,
    # docs/login-referrals.md §1.3): doveadm's password-less lookup gets a
    # temporary failure from the driver, so doveadm fails (EX_TEMPFAIL)
    # instead of running the command on the front, where alice's mailbox
    # is not.
    def test_doveadm_with_the_directory_down_fails_instead_of_running_here(self):
        front = self.fronts["none"]
        restart_auth(front.conf, front.pid)
        self.slapd.pause()
        try:
            rc, out, err = self.doveadm(front, "mailbox", "list", "-u", "alice")
        finally:
            self.slapd.resume()
        self.assertEqual(rc, 75, (out, err))
        self.assertEqual(out, "")
        self.assertIn("to see if user is proxied", err)
        self.wait_for(front.log, 0, r"referral[^\n]*decision tempfail[^\n]*doveadm", "driver log")


if __name__ == "__main__":
    unittest.main(verbosity=2)
