#!/usr/bin/env python3
"""Password mode's fatal chain errors (docs/login-referrals.md §1.6;
plugin/core/settings/passdb_chain_rules.h): a passdb chain in which passdb
referral with password_attribute set would be unsafe stops the auth process
with one clear line, and no login gets through.  On Dovecot 2.3 and 2.4:

* the chain-mode configuration with password_attribute added (the template's
  passwd-file passdb with result_success = continue-ok before passdb
  referral with skip = unauthenticated): passdb referral would never see a
  login whose password it has not checked, so it would never check one.
  The passwd-file user with the right password would log in (nothing of
  ours would run): the auth process stops instead;
* password mode as the only passdb without result_internalfail =
  return-fail: a directory failure would not fail the login.

No slapd: the check runs when the auth process starts, before any search.
Private fronts on 127.0.0.103 (one at a time; the directory 127.0.0.104 is
never asked); DREF_PASSWORD_MODE_ADDR_BASE moves them as base + 3 and + 4,
next to test_referral_password_mode's base + 0-2.  The lab fixture is needed
only for the passdb driver link (and the settings module link on 2.4).
Everything started here is stopped here, also on failure.
"""
import os
import shutil
import unittest

from referral_support import (first_login_answer, wait_log, without_template_passdb,
                              work_dir)

import lab_dovecot
import lab_process
from dovecot_version import is_24

ADDR_BASE = int(os.environ.get("DREF_PASSWORD_MODE_ADDR_BASE", "100"))
FRONT_ADDR = "127.0.0.%d" % (ADDR_BASE + 3)
SLAPD_ADDR = "127.0.0.%d" % (ADDR_BASE + 4)  # never asked: the auth process stops first
SETTINGS = ("ldap_uris = ldap://%s:389\nuser_base = ou=people,dc=example,dc=test\n"
            "password_attribute = userPassword\nlocal_names = %s\ndefault_policy = refer\n"
            % (SLAPD_ADDR, FRONT_ADDR))


class PasswordModeChainTest(unittest.TestCase):
    def refused(self, name, chain, alone, expected):
        """Starts a front whose passdb referral (password mode) has the
        `chain` lines, behind the template's passwd-file passdb unless
        `alone`; asserts the auth process's Fatal line `expected` and that
        yan's right password does not log in."""
        d = work_dir(name)
        settings = os.path.join(d, "dovecot-referral.conf.ext")
        with open(settings, "w", encoding="utf-8") as f:
            f.write(SETTINGS)
        os.chmod(settings, 0o644)
        port = lab_process.pick_port([FRONT_ADDR])
        inst = lab_dovecot.DovecotInstance(name, d, FRONT_ADDR, port, [("yan", "pw-yan")])
        inst.prepare(include=lab_dovecot.conf_passdb_referral(settings, chain))
        if alone:
            without_template_passdb(inst.conf)
        inst.finish_prepare()
        try:
            # Not inst.start(): it (rightly) refuses a Dovecot whose service
            # logs a Fatal at start-up; here that is the point.
            inst.start_unchecked()
            tagged = first_login_answer(FRONT_ADDR, port, "b1", "yan", "pw-yan")
            self.assertFalse(tagged.startswith(b"b1 OK"), tagged)
            log = wait_log(inst.log, expected)
            self.assertIn("auth: Fatal: passdb referral (", log)
            # Exactly the chain's line, not a crash or another error.
            self.assertNotRegex(log, r"Panic:|killed with signal")
        finally:
            left = inst.stop()
            self.assertFalse(left, "processes left after stop")
            if not os.environ.get("DREF_KEEP_TEST_DIRS"):
                shutil.rmtree(d, ignore_errors=True)

    def test_skip_unauthenticated_is_fatal(self):
        scope = "protocol" if is_24() else "service"
        self.refused("pwchain1", "  skip = unauthenticated\n  result_internalfail = return-fail",
                     False,
                     r"auth: Fatal: passdb referral \(%s default\): password_attribute is set "
                     r"\(password mode: this passdb checks the password\), but skip = "
                     r"unauthenticated lets it run only after another passdb checked it: remove "
                     r"skip = unauthenticated, or unset password_attribute for chain mode" % scope)

    def test_missing_return_fail_is_fatal(self):
        scope = "protocol" if is_24() else "service"
        self.refused("pwchain2", "", True,
                     r"auth: Fatal: passdb referral \(%s default\): needs result_internalfail = "
                     r"return-fail \(otherwise a directory failure becomes a local login\)" % scope)


if __name__ == "__main__":
    unittest.main(verbosity=2)
