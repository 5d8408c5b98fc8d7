from passlib.context import CryptContext

from odoo.exceptions import AccessDenied, UserError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase


@tagged("post_install", "-at_install")
class TestPasswords(TransactionCase):
    def stored_hash(self, user):
        self.env.flush_all()
        self.env.cr.execute("SELECT password FROM res_users WHERE id = %s", [user.id])
        return self.env.cr.fetchone()[0]

    def check(self, user, password):
        user.with_user(user)._check_credentials(
            {"type": "password", "password": password}, {"interactive": True})

    def test_new_passwords_are_bcrypt_cost_12(self):
        user = new_test_user(self.env, "pw.user", "base.group_user", password="a-long-enough-pw")
        stored = self.stored_hash(user)
        self.assertTrue(stored.startswith("$bcrypt-sha256$v=2,t=2b,r=12$"), stored)
        self.check(user, "a-long-enough-pw")
        with self.assertRaises(AccessDenied):
            self.check(user, "a-long-enough-pX")

    def test_pbkdf2_hash_upgraded_at_next_successful_login(self):
        user = new_test_user(self.env, "legacy.user", "base.group_user", password="placeholder-pw")
        legacy = CryptContext(["pbkdf2_sha512"]).hash("legacy-password-1")
        self.env.cr.execute("UPDATE res_users SET password = %s WHERE id = %s", [legacy, user.id])
        user.invalidate_recordset()
        with self.assertRaises(AccessDenied):
            self.check(user, "wrong-password-1")
        self.assertEqual(self.stored_hash(user), legacy, "a failed login changes nothing")
        self.check(user, "legacy-password-1")
        upgraded = self.stored_hash(user)
        self.assertTrue(upgraded.startswith("$bcrypt-sha256$v=2,t=2b,r=12$"), upgraded)
        self.check(user, "legacy-password-1")

    def test_no_silent_truncation_past_72_bytes(self):
        base = "é" * 40  # 80 bytes in UTF-8
        user = new_test_user(self.env, "long.user", "base.group_user", password=base + "-one")
        self.check(user, base + "-one")
        with self.assertRaises(AccessDenied):
            self.check(user, base + "-two")  # same first 72 bytes, another password
        with self.assertRaises(AccessDenied):
            self.check(user, base)

    def test_minimum_length_twelve(self):
        self.assertGreaterEqual(int(self.env["ir.config_parameter"].get_param(
            "auth_password_policy.minlength")), 12)
        user = new_test_user(self.env, "short.user", "base.group_user", password="twelve-chars")
        with self.assertRaisesRegex(UserError, "at least 12 characters"):
            user._change_password("eleven-char")
        user._change_password("twelve-chars2")
        self.check(user, "twelve-chars2")
