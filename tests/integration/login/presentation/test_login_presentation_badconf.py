"""A bad settings file stops the login process before it serves anyone, and
the log names file, line and key (ARCHITECTURE.md §4, issue 3 item 5).

imap-login loads the plugin in its pre-init, as root, before the chroot; the
plugin's init reads the settings file and calls i_fatal() on any problem.
Dovecot's master itself keeps running (login processes are started per
connection), but no connection is ever greeted: the client sees the socket
close without a byte, and the log carries
`imap-login: Fatal: <file>:<line>: <key>: <message>`.
"""
import os
import time
import unittest

import socket

from presentation_support import (
    SETTINGS_BASE, PluginFront)

PASSWD = ["alice:{PLAIN}pw-alice::::::"]


def first_bytes(front, timeout=20.0):
    """Connects until the master accepts, and returns what the server sends
    before it closes (b"" for a login process that died at start)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((front.addr, front.port), timeout=2.0) as s:
                s.settimeout(5.0)
                data = b""
                while True:
                    try:
                        chunk = s.recv(4096)
                    except ConnectionResetError:
                        break
                    if not chunk:
                        break
                    data += chunk
                return data
        except ConnectionRefusedError as e:
            last = e
            time.sleep(0.1)
    raise AssertionError("master never accepted on %s:%d: %r" % (front.addr, front.port, last))


class BadSettings(unittest.TestCase):
    def refused(self, name, settings_text, suffix, env_path=None, login_plugin_dir=None,
                expected_fatal=None):
        """Starts a front whose settings are bad; asserts that no client is
        greeted and that the log has "Fatal: <file><suffix>"."""
        front = PluginFront(name, PASSWD, settings_text, login_plugin_dir=login_plugin_dir)
        expected_fatal = expected_fatal or (env_path or front.settings_path) + suffix
        if env_path is not None:
            # Point the plugin's settings path somewhere else (missing file):
            # DOVECOT_REFERRAL_CONFIG=<path> on 2.3, referral_config = <path>
            # on 2.4; the path is the only place either names the file.
            with open(front.instance.conf, "r", encoding="utf-8") as f:
                conf = f.read()
            self.assertEqual(conf.count(front.settings_path), 1, conf)
            conf = conf.replace(front.settings_path, env_path)
            with open(front.instance.conf, "w", encoding="utf-8") as f:
                f.write(conf)
        front.start_unchecked()
        try:
            data = first_bytes(front)
            self.assertEqual(data, b"", "a login process with bad settings greeted: %r" % data)
            log = front.wait_log("imap-login: Fatal: ")
            self.assertIn("imap-login: Fatal: " + expected_fatal, log)
            if login_plugin_dir is not None:
                self.assertIn("rebuild the plugin against the installed dovecot-dev", log)
            self.assertNotIn("dovecot-referral 0.1.0 login plugin: settings", log)
        finally:
            front.stop()

    def test_unknown_key_names_file_line_key(self):
        text = SETTINGS_BASE + "referral_text = Go away.\nno_such_key = 1\n"
        line = text.count("\n")  # the last line
        self.refused("lp-bad-key", text, ":%d: no_such_key: unknown setting" % line)

    def test_bad_value_names_file_line_key(self):
        text = "auth_in_url = sometimes\n" + SETTINGS_BASE
        self.refused("lp-bad-value", text, ":1: auth_in_url: expected star or mechanism")

    def test_ipv6_drain_host_refused_D4(self):
        text = SETTINGS_BASE + "drain_host = ::1\n"
        line = text.count("\n")
        self.refused("lp-bad-drain", text, ":%d: drain_host: " % line)

    def test_missing_file(self):
        self.refused("lp-bad-missing", SETTINGS_BASE, "",
                     env_path="/nonexistent/dovecot-referral.conf.ext")


    def test_vfunc_layout_guard(self):
        # DOVECOT-NOTES §0: deb12u7 changed struct client_vfuncs under the
        # same ABI string.  The same plugin built for the other layout must
        # refuse to run instead of calling the wrong vfuncs.
        probe = os.environ.get("DREF_LAYOUT_PROBE_DIR")
        if not probe:
            self.skipTest("DREF_LAYOUT_PROBE_DIR not set (ctest sets it)")
        # Whichever way round the probe was built (opposite of the installed
        # headers), the message names the mismatch and the fix.
        self.refused("lp-bad-layout", SETTINGS_BASE, "", login_plugin_dir=probe,
                     expected_fatal="dovecot-referral login plugin: built against Dovecot headers ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
