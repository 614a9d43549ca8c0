#!/usr/bin/env python3
"""The shipped conf.d snippet ships inert, and once uncommented it is a
configuration Dovecot accepts with the verified passdb chain (issue 3,
deliverable 5; docs/login-referrals.md §1.1).

The snippet tested is the one for the Dovecot on PATH: conf.d/95-referral.conf
(2.3 syntax) or conf.d/dovecot-2.4/95-referral.conf (2.4 syntax; doveconf
accepts its referral_config only while our settings module is in
<moduledir>/settings, which the ctest lab fixture links there on 2.4).
"""
import os
import re
import subprocess
import tempfile
import unittest

from referral_support import SOURCE_DIR  # also puts tests/support on sys.path
from dovecot_version import is_24

SNIPPET_23 = os.path.join(SOURCE_DIR, "conf.d", "95-referral.conf")
SNIPPET_24 = os.path.join(SOURCE_DIR, "conf.d", "dovecot-2.4", "95-referral.conf")
SNIPPET = SNIPPET_24 if is_24() else SNIPPET_23
# 2.4 refuses a configuration without these two first lines.
HEADER_24 = "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\n"


def doveconf(conf, *args):
    p = subprocess.run(["doveconf", "-c", conf] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace")


class ConfSnippetTest(unittest.TestCase):
    def test_both_snippets_ship_inert(self):
        for snippet in (SNIPPET_23, SNIPPET_24):
            with open(snippet, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    self.assertTrue(not line.strip() or line.lstrip().startswith("#"),
                                    "%s:%d is not a comment: %r" % (snippet, n, line))

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
                f.write("%sprotocols = imap\nssl = no\nbase_dir = %s/run\n!include %s/95-referral.conf\n"
                        % (HEADER_24 if is_24() else "", d, d))
            rc, out = doveconf(conf, "-n")
            self.assertEqual(rc, 0, out)
            if is_24():
                rc, path = doveconf(conf, "referral_config")
                self.assertEqual(rc, 0, path)
        self.assertRegex(out, r"(?m)^imap_id_retain = yes$")
        self.assertRegex(out, r"(?m)^\s+mail_plugins = .*imap_referral"
                         if not is_24() else r"(?m)^  mail_plugins \{\n    imap_referral = yes\n")
        if is_24():
            # Named blocks: the password passdb first, then ours.
            passdbs = re.findall(r"(?ms)^passdb (\S+) \{\n(.*?)^\}", out)
            self.assertEqual([n for n, _ in passdbs], ["passwd-file", "referral"], out)
            self.assertIn("result_success = continue-ok", passdbs[0][1])
            body = passdbs[1][1]
            self.assertRegex(out, r"(?m)^protocol imap \{\n  login_plugins \{\n"
                                  r"    referral_login = yes\n")
            # Our settings module registered the key: doveconf knows its value.
            self.assertEqual(path.strip(), "referral_config = /etc/dovecot/dovecot-referral.conf.ext")
        else:
            passdbs = re.findall(r"(?ms)^passdb \{\n(.*?)^\}", out)
            self.assertEqual(len(passdbs), 2, out)
            self.assertIn("result_success = continue-ok", passdbs[0])
            body = passdbs[1]
            self.assertRegex(out, r"(?m)^\s+login_plugins = .*referral_login")  # protocol imap
            self.assertRegex(out, r"(?m)^import_environment = .*DOVECOT_REFERRAL_CONFIG=")
            self.assertRegex(out, r"(?m)^\s+referral_config = ")
        self.assertIn("driver = referral", body)
        self.assertIn("skip = unauthenticated", body)
        self.assertIn("result_internalfail = return-fail", body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
