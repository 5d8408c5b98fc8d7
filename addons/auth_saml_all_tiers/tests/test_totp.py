import time

import pyotp

from odoo.exceptions import AccessDenied
from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase

from ..lib import throttle
from ..models.res_users_totp import TIMESTEP, matched_counter

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@tagged("post_install", "-at_install")
class TestTotpHardening(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, "totp.user", "base.group_user",
                                 password="totp-user-password")
        cls.user.sudo().totp_secret = SECRET
        cls.totp = pyotp.TOTP(SECRET, interval=TIMESTEP)

    def check(self, code):
        """The refusal message, or None when accepted (no assertRaises: its
        savepoint would also undo the counters)."""
        try:
            self.user._totp_check(int(code))
        except AccessDenied as refused:
            return str(refused)
        return None

    def test_enabled(self):
        self.assertTrue(self.user.totp_enabled)

    def test_matched_counter_follows_rfc_6238(self):
        now = 1_800_000_015
        self.assertEqual(matched_counter(SECRET, self.totp.at(now), now), now // 30)
        self.assertEqual(matched_counter(SECRET, self.totp.at(now - 30), now), now // 30 - 1)
        self.assertIsNone(matched_counter(SECRET, self.totp.at(now - 90), now))

    def test_a_code_is_accepted_once(self):
        code = self.totp.now()
        self.assertIsNone(self.check(code))
        self.assertIn("already used", self.check(code))

    def test_an_older_code_is_refused_after_a_newer_one(self):
        now = time.time()
        self.assertIsNone(self.check(self.totp.at(now)))
        previous = self.totp.at(now, counter_offset=-1)  # still inside core's window
        self.assertIn("already used", self.check(previous))

    def test_wrong_codes_are_throttled_per_account(self):
        policy = throttle.Policy(**throttle.TOTP_DEFAULTS)
        good = self.totp.now()
        wrong = "%06d" % ((int(good) + 1) % 1_000_000)
        for _ in range(policy.free + 1):
            self.assertIn("Verification failed", self.check(wrong))
        # now even the right code has to wait
        self.assertIn("Too many wrong codes", self.check(good))
        self.env.cr.execute("SELECT failures FROM auth_throttle WHERE kind = 'totp' AND key = %s",
                            [str(self.user.id)])
        self.assertEqual(self.env.cr.fetchone()[0], policy.free + 1)
        self.env.cr.execute("UPDATE auth_throttle SET last_failure = last_failure - interval '1 hour'"
                            " WHERE kind = 'totp'")
        self.assertIsNone(self.check(good))
        self.env.cr.execute("SELECT count(*) FROM auth_throttle WHERE kind = 'totp'")
        self.assertEqual(self.env.cr.fetchone()[0], 0, "a success forgets the failures")
