#!/usr/bin/env python3
"""conf.d/95-referral.conf ships inert, and once uncommented it is a
configuration Dovecot accepts with the verified passdb chain (issue 3,
deliverable 5; docs/login-referrals.md §1.1)."""
import os
import re
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SNIPPET = os.path.abspath(os.path.join(HERE, "..", "..", "..", "conf.d", "95-referral.conf"))


class ConfSnippetTest(unittest.TestCase):
    def test_ships_inert(self):
        with open(SNIPPET, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                self.assertTrue(not line.strip() or line.lstrip().startswith("#"),
                                "%s:%d is not a comment: %r" % (SNIPPET, n, line))

    def test_uncommented_is_accepted_with_the_verified_chain(self):
        with open(SNIPPET, encoding="utf-8") as f:
            enabled = re.sub(r"(?m)^#(?!#)", "", f.read())
        with tempfile.TemporaryDirectory() as d:
            users = os.path.join(d, "users")
            open(users, "w").close()
            enabled = enabled.replace("/etc/dovecot/users", users)
            with open(os.path.join(d, "95-referral.conf"), "w", encoding="utf-8") as f:
                f.write(enabled)
            conf = os.path.join(d, "dovecot.conf")
            with open(conf, "w", encoding="utf-8") as f:
                f.write("protocols = imap\nssl = no\nbase_dir = %s/run\n!include %s/95-referral.conf\n"
                        % (d, d))
            p = subprocess.run(["doveconf", "-n", "-c", conf], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            out = p.stdout.decode("utf-8", "replace")
            self.assertEqual(p.returncode, 0, out)
        passdbs = re.findall(r"(?ms)^passdb \{\n(.*?)^\}", out)
        self.assertEqual(len(passdbs), 2, out)
        self.assertIn("result_success = continue-ok", passdbs[0])
        self.assertIn("driver = referral", passdbs[1])
        self.assertIn("skip = unauthenticated", passdbs[1])
        self.assertIn("result_internalfail = return-fail", passdbs[1])
        self.assertRegex(out, r"(?m)^imap_id_retain = yes$")
        self.assertRegex(out, r"(?m)^\s+login_plugins = .*referral_login")  # protocol imap
        self.assertRegex(out, r"(?m)^import_environment = .*DOVECOT_REFERRAL_CONFIG=")
        self.assertRegex(out, r"(?m)^\s+mail_plugins = .*imap_referral")
        self.assertRegex(out, r"(?m)^\s+referral_config = ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
