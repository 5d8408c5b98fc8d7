from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import AccessDenied
from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase

from ..lib import throttle


@tagged("post_install", "-at_install")
class TestThrottle(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # failures are committed on their own cursor: keep them in the test
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.user = new_test_user(cls.env, "throttled.user", "base.group_user",
                                 password="the-right-password")

    def login(self, password, login="throttled.user"):
        return self.env.registry["res.users"].authenticate(
            self.env.cr.dbname, {"type": "password", "login": login, "password": password},
            {"interactive": False})

    def denied(self, password, login="throttled.user"):
        """The AccessDenied of a refused login. (Not assertRaises: its savepoint
        would roll back the failure counted on its own cursor.)"""
        try:
            self.login(password, login)
        except AccessDenied as refused:
            return str(refused)
        self.fail("the login was accepted")

    def row(self, kind="login", key="throttled.user"):
        self.env.cr.execute("SELECT failures, locked_until FROM auth_throttle"
                            " WHERE kind = %s AND key = %s", [kind, key])
        return self.env.cr.fetchone()

    def age_failures(self, seconds):
        self.env.cr.execute("UPDATE auth_throttle SET last_failure = last_failure - %s",
                            [timedelta(seconds=seconds)])

    def test_growing_delays_then_lockout(self):
        policy = throttle.Policy(**throttle.LOGIN_DEFAULTS)
        for attempt in range(1, policy.lockout_after + 1):
            self.assertNotIn("Too many", self.denied("wrong-password"))  # password checked
            self.assertEqual(self.row()[0], attempt)
            delay = throttle.delay_after(attempt, policy)
            if delay and attempt < policy.lockout_after:
                # too early: refused without even checking the password
                self.assertIn("Too many failed logins", self.denied("the-right-password"))
                self.assertEqual(self.row()[0], attempt, "a throttled attempt is not a failure")
                self.age_failures(delay)
        failures, locked_until = self.row()
        self.assertEqual(failures, policy.lockout_after)
        self.assertGreater(locked_until, datetime.utcnow() + timedelta(minutes=14))
        self.age_failures(3600)  # the delay has long passed; the lockout has not
        self.assertIn("Too many failed logins", self.denied("the-right-password"))

    def test_success_resets_the_login(self):
        for _ in range(3):
            self.denied("wrong-password")
        self.assertEqual(self.row()[0], 3)
        self.assertEqual(self.login("the-right-password")["uid"], self.user.id)
        self.assertIsNone(self.row())

    def test_quiet_window_forgets(self):
        for _ in range(3):
            self.denied("wrong-password")
        self.age_failures(2 * 3600)
        self.denied("wrong-password")
        self.assertEqual(self.row()[0], 1)

    def test_unknown_logins_are_throttled_too(self):
        for _ in range(4):
            self.denied("whatever-pass", login="no.such.user")
        self.assertEqual(self.row(key="no.such.user")[0], 4)
        # the case of a login does not escape its counter
        self.assertIn("Too many failed logins", self.denied("whatever-pass", login="NO.SUCH.USER"))

    def test_admin_unlocks(self):
        for _ in range(3):
            self.denied("wrong-password")
        admin = new_test_user(self.env, "unlock.admin", "security_roles.group_role_admin", password="long-enough-password")
        rows = self.env["auth.throttle"].with_user(admin).search([("key", "=", "throttled.user")])
        rows.action_unlock()
        self.assertIsNone(self.row())

    def test_policy_arithmetic(self):
        policy = throttle.Policy(**throttle.LOGIN_DEFAULTS)
        self.assertEqual([throttle.delay_after(n, policy) for n in range(1, 8)],
                         [0, 0, 0, 1, 2, 4, 8])
        self.assertEqual(throttle.delay_after(40, policy), policy.max_delay)
        now = datetime(2026, 1, 1, 12)
        self.assertEqual(throttle.retry_after(5, now - timedelta(seconds=1), None, now, policy), 1)
        self.assertEqual(throttle.retry_after(5, now - timedelta(hours=2), None, now, policy), 0)
        self.assertEqual(throttle.retry_after(1, now, now + timedelta(minutes=1), now, policy), 60)
        with patch.object(throttle, "delay_after", return_value=0):
            self.assertEqual(throttle.retry_after(9, now, None, now, policy), 0)
