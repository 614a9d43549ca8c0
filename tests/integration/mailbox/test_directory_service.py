#!/usr/bin/env python3
"""The referral-directory service (plugin/service, docs/directory-service.md)
on the lab's front, with the lab's settings file switched to it for this test
and restored afterwards (RUN_SERIAL: kills the service, pauses slapd, adds a
directory entry; everything is restored).

- Its socket is 0660 with the imap processes' group: they can ask it, another
  local user cannot.
- Several imap sessions share the service's one LDAP connection: slapd's own
  counters (cn=Monitor) see one new connection and one bind for five
  sessions, and none for sessions whose answer the service has cached.
- The service killed with SIGKILL: Dovecot's master starts a new one at the
  next session, which gets its remote mailboxes as before.
- slapd paused (SIGSTOP), the user's answers older than cache_ttl: the
  login is carried by the passdb driver's last answer (a warning), the new
  session gets the documented outage answer (local mailboxes only, a
  warning); after slapd is back the same session refers again without a new
  login (the retry after negative_cache_ttl).
- A remote mailbox added to the directory reaches new sessions and a running
  one within cache_ttl (2 s in the lab) plus a command's worth of slack.
"""
import os
import re
import signal
import socket
import subprocess
import time
import unittest

from mailbox_support import (Lab, NO_SUCH_MAILBOX, TIMING, assert_referral, kill_service,
                             ldap_tool, referring_session, remote_names, replace_file,
                             service_pids)
from dovecot_version import passdb_log

CONFIG_ADMIN_DN = "cn=admin,cn=config"  # tests/support/slapd_server.py
MONITOR_LDIF = ("dn: olcDatabase=monitor,cn=config\nchangetype: add\n"
                "objectClass: olcDatabaseConfig\nolcDatabase: monitor\n"
                "olcAccess: to * by * read\n")
CACHE_TTL = 2.0          # tests/lab/conf/dovecot-referral.conf.ext.in
NEGATIVE_TTL = 1.0
FRESH = "Shared/ServiceFresh"



def with_service(settings_text):
    """The lab's settings with the service on and without mailbox_cache_dir
    (the shipped configuration: no per-user files)."""
    lines = [ln for ln in settings_text.splitlines()
             if not ln.startswith("mailbox_directory_service")
             and not ln.startswith("mailbox_cache_dir")]
    return "\n".join(lines) + "\n# test_directory_service.py\n" \
        "mailbox_directory_service = referral-directory\n"


class Monitor:
    """slapd's connection and operation counters (cn=Monitor).  Each read is
    itself one connection and one bind; read() leaves those out."""

    def __init__(self, lab):
        self.uri = lab.env["LDAP_URI"]
        rc, out = self._enable(lab)
        if rc not in (0, 68) and "only one monitor" not in out:
            raise AssertionError("enabling slapd's monitor backend: %s" % out)

    @staticmethod
    def _enable(lab):
        e = lab.env
        p = subprocess.run(["ldapmodify", "-x", "-H", e["LDAP_URI"], "-D", CONFIG_ADMIN_DN,
                            "-w", e["LDAP_ADMIN_PW"], "-o", "nettimeout=5"],
                           input=MONITOR_LDIF.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def _raw(self):
        p = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", self.uri, "-o", "ldif-wrap=no",
                            "-b", "cn=Monitor", "(|(cn=Total)(cn=Bind))",
                            "monitorCounter", "monitorOpCompleted"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            raise AssertionError("reading cn=Monitor: %s" % out)
        conns = binds = None
        dn = ""
        for line in out.splitlines():
            if line.startswith("dn: "):
                dn = line[4:]
            elif line.startswith("monitorCounter: ") and dn.startswith("cn=Total,cn=Connections"):
                conns = int(line.split(": ", 1)[1])
            elif line.startswith("monitorOpCompleted: ") and dn.startswith("cn=Bind,cn=Operations"):
                binds = int(line.split(": ", 1)[1])
        if conns is None or binds is None:
            raise AssertionError("cn=Monitor without connection/bind counters: %s" % out)
        return conns, binds

    def diff(self, before):
        """(connections, binds) since `before`, this read and the one that
        made `before` left out (each is one connection and one bind)."""
        conns, binds = self._raw()
        return (conns - before[0] - 1, binds - before[1] - 1), (conns, binds)

    def read(self):
        return self._raw()


class DirectoryService(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()
        cls.path = cls.lab.env["REFERRAL_SETTINGS"]
        with open(cls.path, "r", encoding="utf-8") as f:
            cls.original = f.read()
        replace_file(cls.path, with_service(cls.original))
        cls.slapd_pgid = int(cls.lab.env["SLAPD_PID"])
        cls.monitor = Monitor(cls.lab)

    @classmethod
    def tearDownClass(cls):
        replace_file(cls.path, cls.original)

    def setUp(self):
        self.user = self.lab.user("LOCAL")[0]
        self.projects = self.lab.url(self.user, self.lab.home2, "Shared/Projects")

    # ------------------------------------------------------------ helpers
    def restart_service(self):
        """A fresh service (empty cache) at the next session.  Call it only
        after a session got its answer from the service (it has started)."""
        kill_service(self, self.lab)
        # master notices the child's death and must not throttle the service:
        # it had clients before it died.
        time.sleep(0.2)

    # ------------------------------------------------------------ tests
    def connect_as(self, path, uid, gid):
        """Connects to the service's socket from a child process with this
        uid and gid (no supplementary groups); returns "ok" when the
        service's VERSION line arrived, else the error's name."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never returns into unittest
            status = "error"
            try:
                os.close(r)
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(5)
                s.connect(path)
                status = "ok" if s.recv(64).startswith(b"VERSION 1 ") else "no VERSION"
            except OSError as e:
                status = type(e).__name__
            finally:
                os.write(w, status.encode())
                os._exit(0)
        os.close(w)
        out = os.read(r, 64).decode()
        os.close(r)
        os.waitpid(pid, 0)
        return out

    def test_0_socket_is_for_the_mail_processes_only(self):
        # As Dovecot's dict socket: 0660 and the group of the imap processes
        # (the lab's run with gid 65534), not a socket every local user can ask.
        # The service runs: its socket exists.
        referring_session(self, self.lab, "s0", self.projects)
        path = os.path.join(self.lab.env["LAB_DIR"], "front", "run", "referral-directory")
        st = os.stat(path)
        self.assertEqual(st.st_mode & 0o777, 0o660, oct(st.st_mode))
        self.assertEqual(st.st_gid, 65534)
        self.assertEqual(self.connect_as(path, 65534, 65534), "ok")
        self.assertEqual(self.connect_as(path, 1, 1), "PermissionError")

    def test_1_sessions_share_one_ldap_connection(self):
        # The auth cache (logins below need no LDAP), and a service that has
        # finished starting: one killed during its start makes master
        # throttle the service (2.4: "command startup failed").
        referring_session(self, self.lab, "w0", self.projects)
        self.restart_service()
        before = self.monitor.read()
        for i in range(5):
            referring_session(self, self.lab, "a%d" % i, self.projects)
        (conns, binds), before = self.monitor.diff(before)
        self.assertEqual((conns, binds), (1, 1),
                         "five sessions: new LDAP connections and binds at slapd (only the "
                         "service's one connection expected)")
        self.assertEqual(len(service_pids(self.lab)), 1)
        # Within cache_ttl the answer is the service's: no LDAP at all.
        for i in range(3):
            referring_session(self, self.lab, "b%d" % i, self.projects)
        (conns, binds), _ = self.monitor.diff(before)
        self.assertEqual((conns, binds), (0, 0), "sessions with a cached answer reached slapd")

    def test_2_killed_service_is_restarted_by_dovecot(self):
        referring_session(self, self.lab, "r0", self.projects)
        old = service_pids(self.lab)
        self.assertEqual(len(old), 1, old)
        offset = self.lab.log_size()
        self.restart_service()
        referring_session(self, self.lab, "r1", self.projects)
        new = service_pids(self.lab)
        self.assertEqual(len(new), 1, new)
        self.assertNotEqual(new, old)
        # The session got its table from the new service, not by falling
        # back to LDAP of its own.
        log = self.lab.settled_log_since(offset)
        self.assertNotIn("asking the directory from this process", log)

    def test_3_slapd_down_outage_answer_then_recovery_in_session(self):
        # Every cached answer of this user older than cache_ttl, the
        # service's emptied by a restart: the login during the outage is
        # carried by the passdb driver's last answer (as Dovecot's auth
        # cache falls back to expired entries, docs/login-referrals.md
        # §1.3), the session's table needs the directory.
        warm, _ = self.lab.session()
        warm.logout()
        self.restart_service()
        time.sleep(CACHE_TTL + 0.5)
        offset = self.lab.log_size()
        os.killpg(self.slapd_pgid, signal.SIGSTOP)
        try:
            c, _ = self.lab.session()
            self.addCleanup(c.close)
            t0 = time.monotonic()
            _, tagged = c.command("o1", "SELECT Shared/Projects")
            self.assertRegex(tagged, re.escape(b"o1 " + NO_SUCH_MAILBOX + b"Shared/Projects")
                             + TIMING)
            self.assertLess(time.monotonic() - t0, 8.0)
            self.assertEqual(remote_names(self, c, "o2"), [])
            self.lab.wait_log(offset, r"imap\(%s\).*Warning: remote mailboxes: directory "
                                      r"unavailable" % self.user, timeout=10)
            self.lab.wait_log(offset, passdb_log("referral", re.escape(self.user))
                              + r"directory: directory unavailable \(timeout: [^\n]*\): "
                                r"using the last answer, [0-9]+ s past its cache TTL", timeout=10)
        finally:
            os.killpg(self.slapd_pgid, signal.SIGCONT)
        # The same session: the lookup is retried after negative_cache_ttl at
        # the next command (answered from the old table), then refers.
        deadline = time.monotonic() + 15
        n = 0
        while True:
            n += 1
            _, tagged = c.command("p%d" % n, "SELECT Shared/Projects")
            if b"[REFERRAL " in tagged:
                break
            self.assertLess(time.monotonic(), deadline, "the session never recovered: %r" % tagged)
            time.sleep(0.3)
        assert_referral(self, tagged, "p%d" % n, self.projects)
        log = self.lab.settled_log_since(offset)
        self.assertNotIn("asking the directory from this process", log)

    def test_4_changed_entry_seen_within_cache_ttl(self):
        running, _ = self.lab.session()
        self.addCleanup(running.close)
        self.assertNotIn(FRESH.encode(), remote_names(self, running, "c0"))
        # A new session now gets the service's cached answer (without FRESH).
        dn = "imapMailboxName=%s,ou=mailboxes,%s" % (FRESH, self.lab.env["LDAP_BASE"])
        ldif = ("dn: %s\nobjectClass: imapRemoteMailbox\nimapMailboxName: %s\n"
                "imapMailboxURL: imap://%s:%d/%s\n"
                % (dn, FRESH, self.lab.home2, self.lab.home_port, FRESH)).encode()
        rc, out = ldap_tool(self.lab, "ldapadd", ldif)
        self.assertEqual(rc, 0, out)
        self.addCleanup(ldap_tool, self.lab, "ldapdelete", None, [dn])
        added = time.monotonic()
        seen_new = seen_running = None
        n = 0
        while seen_new is None or seen_running is None:
            n += 1
            self.assertLess(time.monotonic() - added, 15, "the new entry never arrived")
            if seen_running is None and FRESH.encode() in remote_names(self, running, "c%d" % n):
                seen_running = time.monotonic() - added
            if seen_new is None:
                c, _ = self.lab.session()
                try:
                    if FRESH.encode() in remote_names(self, c, "n%d" % n):
                        seen_new = time.monotonic() - added
                finally:
                    c.close()
            time.sleep(0.2)
        # cache_ttl, plus one poll round and a login of slack.
        self.assertLess(seen_new, CACHE_TTL + 1.5, "new sessions saw the change late")
        self.assertLess(seen_running, CACHE_TTL + 1.5, "the running session saw it late")


if __name__ == "__main__":
    unittest.main(verbosity=2)
