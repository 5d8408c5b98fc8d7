import contextlib
import json
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase

from ..lib import throttle
from ..models import res_users as res_users_module

THROTTLED = "Too many failed logins"


@tagged("post_install", "-at_install")
class TestThrottle(TransactionCase):
    """The throttle of every password check. The client (address, device
    cookie, session) is what the request carries; these tests set it with
    `client()` (see tests/test_throttle_workers.py for real addresses)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # failures are committed on their own cursor: keep them in the test
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.user = new_test_user(cls.env, "throttled.user", "base.group_user",
                                 password="the-right-password")
        cls.Users = cls.registry["res.users"]

    def setUp(self):
        super().setUp()
        self.env.cr.execute("DELETE FROM auth_throttle")  # counters of earlier logins

    @contextlib.contextmanager
    def client(self, source="192.0.2.1", device=None):
        info = {"source": source, "device": device}
        with patch.object(self.Users, "_auth_client", lambda _self: dict(info)):
            yield

    @contextlib.contextmanager
    def dummy_verify_calls(self):
        """The passwords given to _dummy_verify (which still runs) within."""
        calls = []
        real = res_users_module._dummy_verify

        def spy(password):
            calls.append(password)
            return real(password)

        with patch.object(res_users_module, "_dummy_verify", spy):
            yield calls

    def login(self, password, login="throttled.user", interactive=True):
        return self.Users.authenticate(
            self.env.cr.dbname, {"type": "password", "login": login, "password": password},
            {"interactive": interactive})

    def denied(self, password, login="throttled.user", interactive=True):
        """The AccessDenied of a refused login. (Not assertRaises: its savepoint
        would roll back the failure counted on its own cursor.)"""
        try:
            self.login(password, login, interactive)
        except AccessDenied as refused:
            return str(refused)
        self.fail("the login was accepted")

    def row(self, kind, key):
        self.env.cr.execute("SELECT failures, locked_until FROM auth_throttle"
                            " WHERE kind = %s AND key = %s", [kind, key])
        return self.env.cr.fetchone()

    def pair(self, source="192.0.2.1", login="throttled.user"):
        return self.row("login_source", throttle.pair_key(login, source))

    def age_failures(self, seconds):
        self.env.cr.execute("UPDATE auth_throttle SET last_failure = last_failure - %s",
                            [timedelta(seconds=seconds)])

    def lock_pair(self, source="192.0.2.1"):
        """Wrong passwords from `source` until the login is locked from there."""
        policy = throttle.Policy(**throttle.LOGIN_SOURCE_DEFAULTS)
        with self.client(source):
            for _attempt in range(policy.lockout_after):
                self.assertNotIn(THROTTLED, self.denied("wrong-password"))
                self.age_failures(policy.max_delay + 1)  # no waiting: delays are another test's
        self.assertTrue(self.pair(source)[1], "locked")

    def device_token(self, user):
        """The device cookie a complete login of `user` leaves in the browser."""
        return throttle.new_device_token(
            self.env["res.users"]._throttle_device_key(user), user.id)

    def set_params(self, **params):
        for key, value in params.items():
            self.env["ir.config_parameter"].sudo().set_param(key, value)
        # the logins run in environments of their own: written, and read afresh
        self.env.flush_all()
        self.env.registry.clear_cache()

    # -- per (login, source) ------------------------------------------------
    def test_growing_delays_then_lockout_of_the_login_from_that_source(self):
        policy = throttle.Policy(**throttle.LOGIN_SOURCE_DEFAULTS)
        with self.client():
            for attempt in range(1, policy.lockout_after + 1):
                self.assertNotIn(THROTTLED, self.denied("wrong-password"))  # password checked
                self.assertEqual(self.pair()[0], attempt)
                delay = throttle.delay_after(attempt, policy)
                if delay and attempt < policy.lockout_after:
                    # too early: refused without even checking the password
                    self.assertIn(THROTTLED, self.denied("the-right-password"))
                    self.assertEqual(self.pair()[0], attempt, "a throttled attempt is not a failure")
                    self.age_failures(delay)
            failures, locked_until = self.pair()
            self.assertEqual(failures, policy.lockout_after)
            self.assertGreater(locked_until, datetime.utcnow() + timedelta(minutes=14))
            self.age_failures(3600)  # the delay has long passed; the lockout has not
            self.assertIn(THROTTLED, self.denied("the-right-password"))
        if "audit.event" in self.env:  # the audit tells a refusal from a wrong password
            self.env["audit.event"]._flush_buffer()
            last = self.env["audit.event"].sudo().search(
                [("action", "=", "login"), ("login", "=", "throttled.user")], limit=1,
                order="id desc")
            self.assertEqual(json.loads(last.details).get("throttled"), True)

    def test_a_lockout_leaves_other_sources_known_devices_and_api_keys_open(self):
        key = self.env["res.users.apikeys"].with_user(self.user)._generate(
            None, "integration", datetime.now() + timedelta(days=1))
        device = self.device_token(self.user)
        self.lock_pair("192.0.2.1")
        with self.client("192.0.2.1"):
            self.assertIn(THROTTLED, self.denied("the-right-password"))
            # the API key is checked, and only it: RPC login and every RPC call
            self.assertEqual(self.login(key, interactive=False)["uid"], self.user.id)
            self.Users.check(self.env.cr.dbname, self.user.id, key)
            self.assertIn(THROTTLED, self.denied("the-right-password", interactive=False))
            with self.assertRaises(AccessDenied):
                self.Users.check(self.env.cr.dbname, self.user.id, "the-right-password")
        with self.client("192.0.2.1", device=device):  # a device that logged in before
            self.assertEqual(self.login("the-right-password")["uid"], self.user.id)
        with self.client("198.51.100.7"):  # the user elsewhere, at once
            self.assertEqual(self.login("the-right-password")["uid"], self.user.id)
        self.assertTrue(self.pair("192.0.2.1")[1], "still locked where the guesses came from")

    def test_a_device_cookie_counts_only_for_its_user_its_signature_and_password(self):
        key = self.env["res.users"]._throttle_device_key(self.user)
        other = new_test_user(self.env, "other.user", "base.group_user",
                              password="other-user-password")
        token = self.device_token(self.user)
        uid, nonce, signature = token.split(".")
        self.assertEqual(throttle.device_nonce(key, self.user.id, token), nonce)
        for forged in (self.device_token(other),  # another user's
                       f"{uid}.{nonce}x.{signature}", f"{uid}.{nonce}.{signature[:-1]}{'1' if signature[-1] == '0' else '0'}",
                       throttle.new_device_token("another secret", self.user.id), "", "a.b"):
            self.assertIsNone(throttle.device_nonce(key, self.user.id, forged), forged)
        self.lock_pair("192.0.2.1")
        with self.client("192.0.2.1", device=self.device_token(other)):
            self.assertIn(THROTTLED, self.denied("the-right-password"))
        # a new password forgets the devices of the old one
        token = self.device_token(self.user)
        self.user.password = "a-brand-new-password"
        self.env.flush_all()
        with self.client("192.0.2.1", device=token):
            self.assertIn(THROTTLED, self.denied("a-brand-new-password"))
        with self.client("192.0.2.1", device=self.device_token(self.user)):
            self.assertEqual(self.login("a-brand-new-password")["uid"], self.user.id)

    def test_success_forgets_the_pair_only(self):
        with self.client():
            for _ in range(3):
                self.denied("wrong-password")
            self.assertEqual(self.pair()[0], 3)
            self.assertEqual(self.login("the-right-password")["uid"], self.user.id)
        self.assertIsNone(self.pair())
        self.assertEqual(self.row("ip", "192.0.2.1")[0], 3, "the source's failures stay")
        self.assertEqual(self.row("login", "throttled.user")[0], 3, "so do the login's")

    def test_quiet_window_forgets(self):
        with self.client():
            for _ in range(3):
                self.denied("wrong-password")
            self.age_failures(2 * 3600)
            self.denied("wrong-password")
        self.assertEqual(self.pair()[0], 1)

    def test_unknown_logins_are_throttled_with_the_same_answer(self):
        with self.client():
            for _ in range(4):
                self.denied("whatever-pass", login="no.such.user")
                self.denied("wrong-password")
            label = self.env["res.users"]._security_unknown_login_label("no.such.user")
            self.assertEqual(self.pair(login=label)[0], 4)
            # counted under a keyed digest: what was typed is not kept
            self.env.cr.execute("SELECT count(*) FROM auth_throttle WHERE key ILIKE %s",
                                ["%no.such.user%"])
            self.assertEqual(self.env.cr.fetchone()[0], 0)
            # the case of a login does not escape its counter, and an unknown
            # login is answered as an existing one
            self.assertEqual(self.denied("whatever-pass", login="NO.SUCH.USER"),
                             self.denied("wrong-password"))

    # -- per source -----------------------------------------------------------
    def test_source_slowdown_follows_core_cooldown_settings(self):
        self.set_params(**{"base.login_cooldown_after": "2", "base.login_cooldown_duration": "7"})
        with self.client("203.0.113.5"):
            for i in range(2):
                self.denied("wrong", login=f"sprayed.{i}")
            self.denied("wrong", login="sprayed.2")  # checked: delays start after it
            self.assertIn(THROTTLED, self.denied("the-right-password"))  # any login
        with self.client("203.0.113.6"):
            self.assertEqual(self.login("the-right-password")["uid"], self.user.id)
        self.assertEqual(self.row("ip", "203.0.113.5")[0], 3)
        policy = self.env["auth.throttle"]._policy("ip")
        self.assertEqual((policy.free, policy.max_delay, policy.lockout_after), (2, 7, 0))
        self.assertEqual(throttle.delay_after(100, policy), 7, "never longer than the setting")
        with self.client("203.0.113.5", device=self.device_token(self.user)):
            # a browser the user logged in from before is not slowed by its address
            self.assertEqual(self.login("the-right-password")["uid"], self.user.id)
        self.set_params(**{"base.login_cooldown_after": "0"})  # core's "off"
        with self.client("203.0.113.5"):
            self.assertEqual(self.login("the-right-password")["uid"], self.user.id)

    def test_ipv6_sources_count_per_64(self):
        self.assertEqual(throttle.source_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64")
        self.assertEqual(throttle.source_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64")
        self.assertEqual(throttle.source_key("::ffff:192.0.2.8"), "192.0.2.8")
        self.assertEqual(throttle.source_key("192.0.2.8"), "192.0.2.8")
        # what a forged proxy header makes of the address: one bucket, never a key part
        for forged in ("not-an-ip", "device abc", "1.2.3.4 from x", "192.0.2.8, 10.0.0.1"):
            self.assertEqual(throttle.source_key(forged), "invalid")

    # -- per login, untrusted sources -----------------------------------------
    def test_the_login_ceiling_delays_unknown_devices_never_known_ones(self):
        self.set_params(**{"auth_throttle.login.free": "4"})
        for i in range(5):  # spread over five addresses: no pair, no source slowed
            with self.client(f"198.51.100.{i + 10}"):
                self.denied("wrong-password")
        self.assertEqual(self.row("login", "throttled.user")[0], 5)
        with self.client("198.51.100.99"):  # an unknown device: delayed
            self.assertIn(THROTTLED, self.denied("the-right-password"))
        with self.client("198.51.100.99", device=self.device_token(self.user)):
            self.assertEqual(self.login("the-right-password")["uid"], self.user.id)
        # a session does not make a device known (it may be someone else's,
        # stolen: an identity check from it is counted on the login too)
        with self.client("198.51.100.99"):
            self.assertIn(THROTTLED, self.refusal(lambda: self.user.with_user(
                self.user)._check_credentials(
                {"type": "password", "login": self.user.login, "password": "the-right-password"},
                {"interactive": True})))
        policy = self.env["auth.throttle"]._policy("login")
        self.assertEqual(policy.lockout_after, 0, "the ceiling never locks")

    # -- every password check -------------------------------------------------
    def password_checks(self, password):
        """Every way the suite and core check a user's password, each a call
        that raises when refused."""
        owner = self.env["res.users"].browse(
            min(self.env["res.groups"]._security_owner_ids()))
        user = self.user.with_user(self.user)
        db = self.env.cr.dbname
        credential = {"type": "password", "login": self.user.login, "password": password}
        return {
            "web login": lambda: self.login(password),
            "RPC login": lambda: self.login(password, interactive=False),
            "RPC call": lambda: self.Users.check(db, self.user.id, password),
            "identity check": lambda: self.env["res.users.identitycheck"].with_user(
                self.user).create({"password": password})._check_identity(),
            "change password": lambda: user.change_password(password, "a-new-long-password"),
            "direct check": lambda: user._check_credentials(credential, {"interactive": True}),
        }, {
            "ownership transfer": lambda: self.env["security.ownership.transfer"].with_user(
                owner)._check_password(password),
        }, owner

    def test_every_password_check_goes_through_the_throttle(self):
        checks, owner_checks, owner = self.password_checks("the-right-password")
        self.lock_pair("192.0.2.1")
        with self.client("192.0.2.1"):
            for name, check in checks.items():
                with self.subTest(check=name):
                    self.assertIn(THROTTLED, self.refusal(check) or "", name)
        # and every one counts a wrong password
        checks, owner_checks, owner = self.password_checks("a-wrong-password")
        for name, check in {**checks, **owner_checks}.items():
            with self.subTest(check=name), self.client("192.0.2.50"):
                target = owner.login if name in owner_checks else "throttled.user"
                before = (self.pair("192.0.2.50", target) or (0,))[0]
                self.assertNotIn(THROTTLED, self.refusal(check) or "", name)
                self.assertEqual(self.pair("192.0.2.50", target)[0], before + 1, name)
                self.age_failures(301)  # past the delay before the next one
        # the Owner's transfer says it is throttled once the Owner is locked from there
        with self.client("192.0.2.50"):
            for _i in range(9):
                self.refusal(owner_checks["ownership transfer"])
                self.age_failures(301)
            self.assertTrue(self.pair("192.0.2.50", owner.login)[1])
            owner_checks = self.password_checks(owner.password or "any")[1]
            self.assertIn(THROTTLED, self.refusal(owner_checks["ownership transfer"]))

    def refusal(self, check):
        """The message a refused check raised; fails if it was accepted. (Not
        assertRaises: its savepoint would roll back the counted failure.)"""
        try:
            check()
        except (AccessDenied, UserError) as refused:
            return str(refused)
        self.fail("the check was accepted")

    def test_a_malformed_password_gets_the_same_answer_for_every_login(self):
        for password in (["a"], {"x": 1}, "x" * 5000, "", None, 42):
            for login in ("throttled.user", "no.such.user"):
                with self.subTest(password=str(password)[:10], login=login), self.client():
                    self.assertEqual(self.denied(password, login=login), "Access Denied")
                    with self.assertRaises(AccessDenied):
                        self.Users.check(self.env.cr.dbname, self.user.id, password)
        # refused before any counter: none is left counted in advance
        self.env.cr.execute("SELECT count(*) FROM auth_throttle")
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_an_account_without_a_password_costs_a_password_check(self):
        invited = new_test_user(self.env, "invited.user", "base.group_user",
                                password="invited-password")
        self.env.cr.execute("UPDATE res_users SET password = NULL WHERE id = %s", [invited.id])
        self.env.invalidate_all()
        with self.dummy_verify_calls() as calls, self.client():
            self.denied("a-guess", login="invited.user")
        self.assertEqual(calls, ["a-guess"])

    def test_an_unknown_login_costs_a_password_check(self):
        with self.dummy_verify_calls() as calls, self.client():
            self.denied("a-guess", login="no.such.user")
            self.assertEqual(calls, ["a-guess"], "as long as a real check: no enumeration")
            self.denied("wrong-password")
            self.assertEqual(len(calls), 1, "an existing login's check is the real one")

    def test_the_owners_counters_are_the_owners_to_unlock(self):
        owner = self.env["res.users"].browse(min(self.env["res.groups"]._security_owner_ids()))
        admin = new_test_user(self.env, "unlock.admin2", "security_roles.group_role_admin",
                              password="long-enough-password")
        Throttle = self.env["auth.throttle"].sudo()
        Throttle._record_failure([("login_source", f"{owner.login} from 192.0.2.9"),
                                  ("login", owner.login), ("totp", str(owner.id))])
        for key in (f"{owner.login} from 192.0.2.9", owner.login, str(owner.id)):
            rows = self.env["auth.throttle"].with_user(admin).search([("key", "=", key)])
            with self.subTest(key=key), self.assertRaisesRegex(AccessError, "Only the Owner"):
                rows.action_unlock()
        events = self.env["audit.event"].sudo() if "audit.event" in self.env else None
        start = events.search([], order="id desc", limit=1).id if events is not None else 0
        self.env["auth.throttle"].with_user(owner).search(
            [("key", "like", owner.login)]).action_unlock()
        self.assertFalse(Throttle.search([("key", "like", owner.login)]))
        if events is not None:
            unlock = events.search([("id", ">", start), ("action", "=", "login.unlock")])
            self.assertEqual(len(unlock), 1)

    def test_admin_unlocks(self):
        with self.client():
            for _ in range(3):
                self.denied("wrong-password")
        admin = new_test_user(self.env, "unlock.admin", "security_roles.group_role_admin",
                              password="long-enough-password")
        rows = self.env["auth.throttle"].with_user(admin).search(
            [("key", "like", "throttled.user")])
        rows.action_unlock()
        self.assertIsNone(self.pair())

    def test_policy_arithmetic(self):
        policy = throttle.Policy(**throttle.LOGIN_SOURCE_DEFAULTS)
        self.assertEqual([throttle.delay_after(n, policy) for n in range(1, 8)],
                         [0, 0, 0, 1, 2, 4, 8])
        self.assertEqual(throttle.delay_after(40, policy), policy.max_delay)
        self.assertEqual(throttle.delay_after(10 ** 6, policy), policy.max_delay)
        now = datetime(2026, 1, 1, 12)
        self.assertEqual(throttle.retry_after(5, now - timedelta(seconds=1), None, now, policy), 1)
        self.assertEqual(throttle.retry_after(5, now - timedelta(hours=2), None, now, policy), 0)
        self.assertEqual(throttle.retry_after(1, now, now + timedelta(minutes=1), now, policy), 60)
        with patch.object(throttle, "delay_after", return_value=0):
            self.assertEqual(throttle.retry_after(9, now, None, now, policy), 0)
