#!/usr/bin/env python3
"""Self-test of tests/support/slapd_server.py, the throwaway slapd every
directory, lab and integration test relies on: CLI and class, pause/resume,
kill and restart on the same port, TLS, schema loaded, and clean-up (no
process left, even after a failed start).

usage: slapd_server_test.py RUNDIR
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import slapd_server  # noqa: E402

HELPER = os.path.join(HERE, "..", "support", "slapd_server.py")
ADDR = "127.0.0.14"
RUNDIR = None


def answers(uri, timeout=1.0):
    """True when slapd answers a root DSE search within `timeout`."""
    try:
        p = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", uri, "-o", "nettimeout=1",
                            "-b", "", "-s", "base", "namingContexts"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode == 0
    except subprocess.TimeoutExpired:
        return False


def fresh(name):
    d = os.path.join(RUNDIR, name)
    if os.path.exists(os.path.join(d, "slapd.json")):
        subprocess.run([sys.executable, HELPER, "stop", "--dir", d])
    shutil.rmtree(d, ignore_errors=True)
    return d


class SlapdServerTest(unittest.TestCase):
    def test_cli_start_status_pause_kill_restart_stop(self):
        d = fresh("cli")
        try:
            out = subprocess.run([sys.executable, HELPER, "start", "--dir", d, "--addr", ADDR],
                                 stdout=subprocess.PIPE, check=True, timeout=60).stdout.decode()
            uri = out.strip()
            self.assertTrue(uri.startswith("ldap://%s:" % ADDR), uri)
            with open(os.path.join(d, "slapd.json"), encoding="utf-8") as f:
                state = json.load(f)
            self.assertEqual(state["uri"], uri)
            self.assertEqual(state["root_dn"], slapd_server.ROOT_DN)
            self.assertTrue(answers(uri))
            self.assertEqual(subprocess.run([sys.executable, HELPER, "status", "--dir", d]).returncode, 0)

            subprocess.run([sys.executable, HELPER, "pause", "--dir", d], check=True)
            self.assertFalse(answers(uri))  # accepted by the kernel, never answered
            subprocess.run([sys.executable, HELPER, "resume", "--dir", d], check=True)
            self.assertTrue(answers(uri, 5))

            # A second start while running is refused.
            again = subprocess.run([sys.executable, HELPER, "start", "--dir", d, "--addr", ADDR],
                                   stderr=subprocess.PIPE)
            self.assertNotEqual(again.returncode, 0)
            self.assertIn(b"already running", again.stderr)

            subprocess.run([sys.executable, HELPER, "kill", "--dir", d], check=True)
            self.assertFalse(answers(uri))
            out = subprocess.run([sys.executable, HELPER, "start", "--dir", d, "--addr", ADDR],
                                 stdout=subprocess.PIPE, check=True).stdout.decode()
            self.assertEqual(out.strip(), uri)  # same port after a restart
            self.assertTrue(answers(uri))
        finally:
            subprocess.run([sys.executable, HELPER, "stop", "--dir", d])
        self.assertFalse(answers(uri))
        self.assertEqual(subprocess.run([sys.executable, HELPER, "status", "--dir", d]).returncode, 3)

    def test_class_schema_and_data(self):
        with slapd_server.SlapdServer(fresh("class"), ADDR) as srv:
            srv.start()
            rc, out = srv.add_ldif(
                "dn: imapMailboxName=X,dc=example,dc=test\nobjectClass: imapRemoteMailbox\n"
                "imapMailboxName: X\nimapMailboxURL: imap://h.example.test/X\n")
            self.assertEqual(rc, 0, out)
            self.assertIn("imapMailboxURL: imap://h.example.test/X", srv.search(filt="(imapMailboxName=X)"))
            rc, _ = srv.modify("dn: imapMailboxName=X,dc=example,dc=test\nchangetype: modify\n"
                               "add: imapMailboxURL\nimapMailboxURL: imap://h2.example.test/X\n",
                               check=False)
            self.assertEqual(rc, 19)  # SINGLE-VALUE
            rc, _ = srv.modify_config("dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\n"
                                      "add: olcDbIndex\nolcDbIndex: description eq\n", check=False)
            self.assertEqual(rc, 0)
            pid = srv.pid
        self.assertFalse(os.path.exists("/proc/%d" % pid) and not slapd_server._is_zombie(pid))

    def test_tls_listeners(self):
        with slapd_server.SlapdServer(fresh("tls"), ADDR, tls=True) as srv:
            srv.start()
            env = dict(os.environ, LDAPTLS_CACERT=srv.ca_file, LDAPTLS_REQCERT="demand")
            for argv in (["-H", srv.ldaps_uri], ["-ZZ", "-H", srv.uri]):
                p = subprocess.run(["ldapsearch", "-x", "-LLL", "-b", "", "-s", "base"] + argv,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
                self.assertEqual(p.returncode, 0, p.stderr)

    def test_failed_start_leaves_nothing_running(self):
        srv = slapd_server.SlapdServer(fresh("fail"), ADDR)
        with self.assertRaises(slapd_server.SlapdError):
            srv.start(["/nonexistent.ldif"])
        self.assertIsNone(srv.pid)
        self.assertFalse(answers(srv.uri))
        srv.cleanup()

    def test_port_in_use_is_reported(self):
        with socket.socket() as busy:
            busy.bind((ADDR, 0))
            busy.listen(1)
            srv = slapd_server.SlapdServer(fresh("busy"), ADDR, port=busy.getsockname()[1],
                                           ready_timeout=3)
            t0 = time.monotonic()
            with self.assertRaises(slapd_server.SlapdError):
                srv.start()
            self.assertLess(time.monotonic() - t0, 10)
            self.assertIsNone(srv.pid)
            srv.cleanup()


if __name__ == "__main__":
    RUNDIR = os.path.abspath(sys.argv.pop(1))
    os.makedirs(RUNDIR, exist_ok=True)
    unittest.main(verbosity=2)
