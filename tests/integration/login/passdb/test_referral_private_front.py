#!/usr/bin/env python3
"""passdb referral on a private front (127.0.0.20) with a private slapd
(127.0.0.21): LDAP failover, slapd killed and restarted under a running
Dovecot, events as metrics, and start-up errors (issue 3).  Everything
started here is stopped here, also on failure.
"""
import os
import re
import shutil
import socket
import subprocess
import time
import unittest

from referral_support import (ImapClient, assert_local_login,
                              build_dir, first_login_answer, fresh_source, login, send_id,
                              work_dir)

import lab_dovecot
import lab_process
import slapd_server
from dovecot_version import INTERNAL_FAILURE_DELAY_MAX, is_24, passdb_log
from lab_logs import wait_settled

FRONT_ADDR = "127.0.0.20"
SLAPD_ADDR = "127.0.0.21"
TARGET_ADDR = "127.0.0.23"   # zoe's home: never contacted, only named in the referral
ERROR_ADDR = "127.0.0.29"    # fronts that must refuse to serve
DEAD_ADDR = "127.0.0.22"     # first LDAP URI: nothing listens there
LDAP_TIMEOUT = 2.0
TARGET_PORT = 10993

LDIF = """dn: ou=people,dc=example,dc=test
objectClass: organizationalUnit
ou: people

dn: uid=zoe,ou=people,dc=example,dc=test
objectClass: inetOrgPerson
objectClass: inetLocalMailRecipient
uid: zoe
cn: Zoe
sn: Elsewhere
mailHost: %s

dn: uid=xena,ou=people,dc=example,dc=test
objectClass: inetOrgPerson
objectClass: inetLocalMailRecipient
uid: xena
cn: Xena
sn: Elsewhere
mailHost: %s

dn: uid=yan,ou=people,dc=example,dc=test
objectClass: inetOrgPerson
objectClass: inetLocalMailRecipient
uid: yan
cn: Yan
sn: Here
mailHost: %s
""" % (TARGET_ADDR, TARGET_ADDR, FRONT_ADDR)

CHAIN_OK = "  skip = unauthenticated\n  result_internalfail = return-fail"

# Dovecot metrics over the driver's events (2.3 or 2.4 syntax).
METRICS = (lab_dovecot.conf_metric("dref_referral_decision", "referral_decision", ("decision",))
           + lab_dovecot.conf_metric("dref_referral_lookup", "referral_lookup_finished",
                                     ("result",)))


def settings_text(uris, extra=""):
    return ("ldap_uris = %s\nldap_bind_dn = %s\nldap_bind_password = %s\n"
            "ldap_timeout = %ds\nldap_connect_timeout = 1s\nldap_reconnect_backoff_max = 1s\n"
            "user_base = ou=people,dc=example,dc=test\nhome_port = %d\n"
            "cache_ttl = 1s\nnegative_cache_ttl = 1s\nlocal_names = %s\n"
            "default_policy = refer\n%s"
            % (uris, slapd_server.ROOT_DN, slapd_server.ROOT_PASSWORD, int(LDAP_TIMEOUT),
               TARGET_PORT, FRONT_ADDR, extra))


class Front:
    def __init__(self, name, addr, settings, chain=CHAIN_OK, login_plugin=True, extra=""):
        self.dir = work_dir(name)
        self.addr = addr
        self.port = lab_process.pick_port([addr])
        self.settings = os.path.join(self.dir, "dovecot-referral.conf.ext")
        with open(self.settings, "w", encoding="utf-8") as f:
            f.write(settings)
        os.chmod(self.settings, 0o644)
        include = lab_dovecot.conf_passdb_referral(self.settings, chain)
        include += "imap_id_retain = yes\nauth_cache_size = 1M\nauth_cache_ttl = 30s\n"
        if login_plugin:
            include += lab_dovecot.conf_login_plugin(os.path.join(build_dir(), "plugin", "login"),
                                                     self.settings)
        include += extra
        self.inst = lab_dovecot.DovecotInstance(name, self.dir, addr, self.port,
                                                [("zoe", "pw-zoe"), ("xena", "pw-xena"),
                                                 ("yan", "pw-yan")])
        self.inst.prepare(include=include)
        self.inst.finish_prepare()

    def start(self):
        self.inst.start()

    def stop(self):
        left = self.inst.stop()
        if not left and not os.environ.get("DREF_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)
        return left

    def connect(self):
        sock = socket.create_connection((self.addr, self.port), timeout=15,
                                        source_address=(fresh_source(), 0))
        c = ImapClient(sock, 15)
        c.greeting = c.read_line()
        return c

    def log(self):
        try:
            with open(self.inst.log, "r", encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            m = re.search(pattern, text)
            if m:
                return m
            time.sleep(0.1)
        raise AssertionError("%r not in %s:\n%s" % (pattern, self.inst.log, self.log()[-3000:]))

    def login(self, tag, user, pw, client_id):
        c = self.connect()
        try:
            send_id(c, "i0", client_id)
            return login(c, tag, user, pw)
        finally:
            c.close()


def referral(tag, user="zoe"):
    return (b"%s NO [REFERRAL imap://%s;AUTH=*@%s:%d/] Your mailbox is on another server."
            % (tag.encode(), user.encode(), TARGET_ADDR.encode(), TARGET_PORT))


def unique(prefix):
    return "%s-%d-%d" % (prefix, os.getpid(), int(time.monotonic() * 1000))


class PrivateFrontTest(unittest.TestCase):
    def setUp(self):
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            fn()

    def start_slapd(self):
        d = work_dir("slapd")
        srv = slapd_server.SlapdServer(d, SLAPD_ADDR)
        ldif = os.path.join(d, "zoe.ldif")
        with open(ldif, "w", encoding="utf-8") as f:
            f.write(LDIF)
        srv.start([ldif])
        self.cleanups.append(lambda: (srv.cleanup(), shutil.rmtree(d, ignore_errors=True)))
        return srv

    def stats_counts(self, front):
        """{metric name: count} of `doveadm stats dump`, and the dump."""
        p = subprocess.run(["doveadm", "-c", front.inst.conf, "stats", "dump"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        dump = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, dump)
        counts = {}
        for line in dump.splitlines()[1:]:  # metric_name field count ...
            cols = line.split("\t")
            if len(cols) > 2:
                counts[cols[0]] = int(cols[2])
        return counts, dump

    def start_front(self, *args, **kw):
        front = Front(*args, **kw)
        self.cleanups.append(front.stop)
        front.start()
        return front

    # Issue 3: two URIs, the first dead -> referrals keep working; slapd
    # killed -> NO [UNAVAILABLE] within ldap_timeout + 1 s for a user with no
    # answer to fall back on (xena, never looked up), while zoe, whose last
    # answer is past cache_ttl, is referred from it with a warning (as
    # Dovecot's auth cache falls back to expired entries); slapd back on the
    # same port -> referrals resume without restarting Dovecot.  The events
    # feed Dovecot metrics (category referral).
    def test_failover_restart_and_metrics(self):
        srv = self.start_slapd()
        dead = "ldap://%s:%d" % (DEAD_ADDR, lab_process.pick_port([DEAD_ADDR]))
        front = self.start_front("pfront", FRONT_ADDR, settings_text("%s %s" % (dead, srv.uri)),
                                 extra=METRICS)
        for i in range(3):
            tag = "f%d" % i
            _, tagged, secs = front.login(tag, "zoe", "pw-zoe", unique("dref-failover"))
            self.assertEqual(tagged, referral(tag))
            self.assertLess(secs, LDAP_TIMEOUT + 1.0)
        _, tagged, _ = front.login("y1", "yan", "pw-yan", unique("dref-local"))
        assert_local_login(tagged, "y1")

        srv.kill()
        time.sleep(1.5)  # directory cache_ttl = 1s
        _, tagged, secs = front.login("k1", "xena", "pw-xena", unique("dref-down"))
        self.assertTrue(tagged.startswith(b"k1 NO [UNAVAILABLE] "), tagged)
        # (+ 2.4's auth_internal_failure_delay, added by Dovecot after our answer)
        self.assertLess(secs, LDAP_TIMEOUT + 1.0 + INTERNAL_FAILURE_DELAY_MAX)
        _, tagged, secs = front.login("k2", "zoe", "pw-zoe", unique("dref-stale"))
        self.assertEqual(tagged, referral("k2"))
        self.assertLess(secs, LDAP_TIMEOUT + 1.0)
        front.wait_log(passdb_log("referral", "zoe") + r"directory: directory unavailable "
                       r"\([^\n]*\): using the last answer, [0-9]+ s past its cache TTL")

        srv.start()
        deadline = time.monotonic() + 20
        while True:
            _, tagged, _ = front.login("k3", "xena", "pw-xena", unique("dref-back"))
            if tagged == referral("k3", "xena") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(tagged, referral("k3", "xena"))
        self.assertNotRegex(front.log(), r"killed with signal|(auth|imap-login): (Fatal|Panic)")

        counts, dump = self.stats_counts(front)
        self.assertGreaterEqual(counts.get("dref_referral_decision_refer", 0), 4, dump)
        self.assertGreaterEqual(counts.get("dref_referral_decision_local", 0), 1, dump)
        self.assertGreaterEqual(counts.get("dref_referral_decision_tempfail", 0), 1, dump)
        self.assertGreaterEqual(counts.get("dref_referral_lookup_found", 0), 5, dump)
        self.assertGreaterEqual(counts.get("dref_referral_lookup_unavailable", 0), 1, dump)
        # Events and logs never carry the password.
        wait_settled(front.inst.log)
        self.assertNotIn("pw-zoe", front.log())

    # The driver builds its events' fields only when a filter or auth_debug
    # can want them (issue 13 item 3): filters that select on those fields
    # (a metric and log_debug) still see every event they select, warm
    # logins (answered from the directory's cache) included, and no other.
    def test_filters_on_event_fields_still_select(self):
        srv = self.start_slapd()
        conf = ("metric dref_refer_only {\n  filter = event=referral_decision AND decision=refer\n}\n"
                "metric dref_found_only {\n  filter = event=referral_lookup_finished AND "
                "result=found\n}\n"
                "log_debug = event=referral_decision AND decision=refer\n")
        front = self.start_front("ffront", FRONT_ADDR, settings_text(srv.uri), extra=conf)
        for tag in ("r1", "r2", "r3"):  # the first one asks the directory, the others are warm
            _, tagged, _ = front.login(tag, "zoe", "pw-zoe", unique("dref-filter"))
            self.assertEqual(tagged, referral(tag))
        _, tagged, _ = front.login("l1", "yan", "pw-yan", unique("dref-filter-local"))
        assert_local_login(tagged, "l1")
        # log_debug on a field: the refer decisions' debug lines, not the local one.
        front.wait_log(r"(?s)(decision refer \(source .*){3}")
        wait_settled(front.inst.log)  # the local login's line would come last
        self.assertEqual(len(re.findall(r"decision refer \(source ", front.log())), 3, front.log())
        self.assertNotIn("decision local", front.log())
        # The events reach the stats process asynchronously: wait for them.
        deadline = time.monotonic() + 10
        while True:
            counts, dump = self.stats_counts(front)
            got = (counts.get("dref_refer_only"), counts.get("dref_found_only"))
            if got == (3, 4) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        self.assertEqual(got, (3, 4), dump)

    # Settings errors stop the auth process with <file>:<line>: <key>: <message>;
    # so does a passdb chain that would be unsafe.  No login succeeds.
    def test_startup_errors_are_fatal_with_location(self):
        # The auth block the chain check names: 2.3 calls it the service,
        # 2.4 the protocol (auth->service became auth->protocol).
        scope = "protocol" if is_24() else "service"
        cases = [
            (settings_text("ldap://%s:389" % SLAPD_ADDR).replace(
                "ldap_timeout = %ds" % int(LDAP_TIMEOUT), "ldap_timeout = soon"), CHAIN_OK,
             r"auth: Fatal: passdb referral: (?P<f>\S+):4: ldap_timeout: "),
            (settings_text("ldap://%s:389" % SLAPD_ADDR) + "no_such_key = 1\n", CHAIN_OK,
             r"auth: Fatal: passdb referral: (?P<f>\S+):13: no_such_key: "),
            (settings_text("ldap://%s:389" % SLAPD_ADDR), "  result_internalfail = return-fail",
             r"auth: Fatal: passdb referral \(%s default\): needs skip = unauthenticated" % scope),
            (settings_text("ldap://%s:389" % SLAPD_ADDR), "  skip = unauthenticated",
             r"auth: Fatal: passdb referral \(%s default\): needs result_internalfail = "
             r"return-fail" % scope),
        ]
        for settings, chain, pattern in cases:
            front = Front("pbad", ERROR_ADDR, settings, chain=chain, login_plugin=False)
            try:
                # Not inst.start(): it (rightly) refuses a Dovecot whose
                # service logs a Fatal at start-up; here that is the point.
                front.inst.start_unchecked()
                tagged = first_login_answer(front.addr, front.port, "b1", "yan", "pw-yan")
                self.assertFalse(tagged.startswith(b"b1 OK"), tagged)
                m = front.wait_log(pattern)
                if "f" in m.groupdict():
                    self.assertEqual(m.group("f"), front.settings)
            finally:
                self.assertFalse(front.stop(), "processes left after stop")


if __name__ == "__main__":
    unittest.main(verbosity=2)
