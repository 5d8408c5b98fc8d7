import xmlrpc.client
from unittest.mock import patch

import pyotp

from odoo.tests import new_test_user, tagged
from odoo.tools import config

from .common import LoginCase

THROTTLED = "Too many failed logins"


@tagged("post_install", "-at_install")
class TestThrottleHttp(LoginCase):
    """The throttle as a browser meets it: the device cookie a right password
    leaves, and the Settings warning about a proxy Odoo does not trust."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, "device.user", "base.group_user",
                                 password="device-user-password")
        cls.admin = new_test_user(cls.env, "proxy.admin", "security_roles.group_role_admin",
                                  password="proxy-admin-password")

    def test_a_browser_that_gave_the_right_password_is_not_slowed_by_others_guesses(self):
        self.env["ir.config_parameter"].sudo().set_param("auth_throttle.login.free", "2")
        self.env.flush_all()
        self.assertEqual(self.form_login("device.user", "device-user-password").status_code, 303)
        device = self.opener.cookies.get("auth_device")
        self.assertTrue(device, "a right password leaves a device cookie")
        self.assertTrue(device.startswith(f"{self.user.id}."))
        self.url_open("/web/session/logout")
        # guesses from elsewhere: three failures on the login's ceiling
        for i in range(3):
            self.env["auth.throttle"].sudo()._record_failure(
                [("login", "device.user"), ("login_source", f"device.user from 192.0.2.{i}")])
        self.env.flush_all()
        self.assertEqual(self.form_login("device.user", "device-user-password").status_code, 303)
        self.assertEqual(self.session_uid(), self.user.id)
        # the same from a browser without the cookie: delayed
        self.url_open("/web/session/logout")
        self.opener.cookies.clear()
        refused = self.form_login("device.user", "device-user-password")
        self.assertIn(THROTTLED, refused.text)
        self.assertFalse(self.session_uid())

    def test_the_device_cookie_comes_after_the_second_factor(self):
        secret = pyotp.random_base32()
        self.user.sudo().totp_secret = secret
        self.env.flush_all()
        response = self.form_login("device.user", "device-user-password")
        self.assertIn("/web/login/totp", response.headers["Location"])
        self.assertFalse(self.opener.cookies.get("auth_device"), "not on the password alone")
        page = self.url_open("/web/login/totp").text
        done = self.url_open("/web/login/totp", data={
            "totp_token": pyotp.TOTP(secret).now(), "csrf_token": self.csrf(page)},
            allow_redirects=False)
        self.assertEqual(done.status_code, 303)
        self.assertEqual(self.session_uid(), self.user.id)
        self.assertTrue(self.opener.cookies.get("auth_device"))

    def test_rpc_guesses_count_by_the_callers_address(self):
        common = xmlrpc.client.ServerProxy(f"{self.base_url()}/xmlrpc/2/common")
        db = self.env.cr.dbname
        self.assertFalse(common.authenticate(db, "device.user", "wrong-rpc-1", {}))
        self.assertFalse(common.login(db, "device.user", "wrong-rpc-2"))
        # (an execute_kw refused here is counted as well, but the test server
        # rolls its whole request back: see tests/test_throttle_workers.py)
        self.env.cr.execute("SELECT kind, key, failures FROM auth_throttle ORDER BY kind")
        rows = {(kind, key): failures for kind, key, failures in self.env.cr.fetchall()}
        self.assertEqual(rows.get(("login_source", "device.user from 127.0.0.1")), 2, rows)
        self.assertEqual(rows.get(("ip", "127.0.0.1")), 2, rows)
        self.assertNotIn(("login_source", "device.user from server"), rows)

    def test_settings_warn_when_a_proxy_is_not_trusted(self):
        self.authenticate("proxy.admin", "proxy-admin-password")

        def warning(headers):
            # as the Settings form opens: an onchange on a new record
            settings = self.make_jsonrpc_request(
                "/web/dataset/call_kw/res.config.settings/onchange",
                {"model": "res.config.settings", "method": "onchange",
                 "args": [[], {}, [], {"auth_proxy_warning": {}}], "kwargs": {}},
                headers=headers)
            return settings["value"]["auth_proxy_warning"]

        self.assertFalse(warning({}))
        for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
            with self.subTest(header=header):
                message = warning({header: "203.0.113.9"})
                self.assertIn("proxy_mode is off", message)
                self.assertIn(header, message)
                self.assertIn("127.0.0.1", message)  # the address every login would have
        # proxy_mode on, but the proxy sends no X-Forwarded-Host: Odoo ignores
        # X-Forwarded-For then, and so does the throttle
        with patch.dict(config.options, {"proxy_mode": True}):
            self.assertIn("X-Forwarded-Host", warning({"X-Forwarded-For": "203.0.113.9"}))
            self.assertFalse(warning({"X-Forwarded-For": "203.0.113.9",
                                      "X-Forwarded-Host": "erp.example.com"}))
