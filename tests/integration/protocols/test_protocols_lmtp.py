#!/usr/bin/env python3
"""LMTP through the front (issue 14 items 3, 5): with lmtp_proxy = yes the
front delivers each recipient's mail to that recipient's home server (the
passdb's proxy answer, home_lmtp_port), and a recipient whose home is the
front on the front (R2221-3/D-11); for every policy the message is in the
right Maildir and nowhere else; a recipient without a usable home server
(D-17, allowed_hosts) gets a temporary failure, never a bounce and never a
local delivery.  Real client: Python smtplib.LMTP.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protocols_support import ProtocolLab, unique  # noqa: E402


class LmtpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = ProtocolLab()

    def deliver(self, role, expect, port=None):
        user, _ = self.lab.user(role)
        token = unique("lmtp-%s" % user)
        replies = self.lab.lmtp_send([user], token, port)
        self.assertEqual(replies[user][0], 250, replies)
        self.assertEqual(self.lab.where(user, token, expect={expect}), {expect}, role)

    def test_remote_users_mail_is_on_the_home_server_only(self):
        self.deliver("HOME1", "HOME1")
        self.deliver("HOME2", "HOME2")

    def test_local_users_mail_is_on_the_front_only_R2221_3(self):
        self.deliver("LOCAL", "FRONT")

    # One transaction, three recipients with three homes (one proxy
    # connection per home, RFC 2033 one reply each).
    def test_one_transaction_each_recipient_at_home(self):
        users = {self.lab.user(r)[0]: where for r, where in
                 (("HOME1", "HOME1"), ("HOME2", "HOME2"), ("LOCAL", "FRONT"))}
        token = unique("lmtp-multi")
        replies = self.lab.lmtp_send(list(users), token)
        for user, where in users.items():
            self.assertEqual(replies[user][0], 250, (user, replies))
            self.assertEqual(self.lab.where(user, token, expect={where}), {where}, user)

    # Issue 14 "done when": every policy, mail in the right Maildir only.
    def test_every_policy(self):
        for policy, where in (("refer", "HOME1"), ("suggest", "HOME1"), (None, "HOME1"),
                              ("proxy-suggest", "HOME1"), ("local", "FRONT")):
            with self.subTest(policy=policy or "proxy"):
                self.deliver("HOME1", where, self.lab.listener_port("lmtp", policy))
        # A user's own policy wins over the listener's (refer -> proxy here).
        self.deliver("REFER", "HOME1", self.lab.listener_port("lmtp", "local"))
        self.deliver("PROXY", "HOME2", self.lab.listener_port("lmtp", "local"))

    def test_no_usable_home_is_a_temporary_failure_D17(self):
        for role in ("NOHOME", "ROGUE"):
            user, _ = self.lab.user(role)
            token = unique("lmtp-%s" % user)
            replies = self.lab.lmtp_send([user], token)
            code, text = replies[user]
            self.assertEqual(code, 451, replies)
            self.assertTrue(text.startswith(b"4.3.0"), text)
            self.assertEqual(self.lab.where(user, token, timeout=1.0), set())

    # unknown_user_policy = local (the lab's default): a recipient not in
    # the directory is the front's own business (its userdb decides).
    def test_user_not_in_directory_is_delivered_on_the_front(self):
        self.deliver("UNLISTED", "FRONT")


if __name__ == "__main__":
    unittest.main(verbosity=2)
