"""Every redirect parameter the suite handles sends the browser to a local
path only, whatever the payload (the corpus in redirect_payloads)."""
import html
import re
from urllib.parse import urlencode, urlsplit

import pyotp

from odoo.tests import HttpCase, new_test_user, tagged

from .redirect_payloads import LOCAL, OPEN_REDIRECTS


@tagged("post_install", "-at_install")
class TestRedirects(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, "redirect.editor", "security_roles.group_role_editor",
                                 password="redirect-editor-pass")
        # an Admin must enrol an authenticator at login (the default policy)
        cls.admin = new_test_user(cls.env, "redirect.admin", "security_roles.group_role_admin",
                                  password="redirect-admin-pass")

    def assert_local_link(self, link, payload):
        """A link the page sends the browser to, as a browser reads it (tabs and
        newlines removed, backslashes as slashes)."""
        seen = re.sub(r"[\t\n\r]", "", link).replace("\\", "/")
        self.assertTrue(seen.startswith("/") and not seen.startswith("//"),
                        f"{payload!r} -> {link!r}")
        self.assertNotIn("evil.example", urlsplit(seen).netloc)

    def assert_local(self, response, payload):
        self.assertIn(response.status_code, (301, 302, 303), repr(payload))
        location = response.headers["Location"]
        parts = urlsplit(location)
        self.assertIn(parts.netloc, ("", urlsplit(self.base_url()).netloc),
                      f"{payload!r} -> {location}")
        self.assertFalse(parts.path.startswith("//") or "\\" in location
                         or any(ord(ch) < 0x21 for ch in location), f"{payload!r} -> {location}")
        self.assertNotIn("evil.example", parts.netloc)
        return location

    def test_login_with_a_password(self):
        self.authenticate(None, None)
        for payload in OPEN_REDIRECTS:
            with self.subTest(payload=payload):
                self.logout()
                page = self.url_open("/web/login")
                csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
                response = self.url_open("/web/login", data={
                    "login": "redirect.editor", "password": "redirect-editor-pass",
                    "csrf_token": csrf, "redirect": payload}, allow_redirects=False)
                self.assert_local(response, payload)

    def test_logged_in_visitor_and_enrolment(self):
        self.authenticate("redirect.editor", "redirect-editor-pass")
        for route in ("/web/login", "/web/login/totp/enroll"):
            for payload in OPEN_REDIRECTS:
                with self.subTest(route=route, payload=payload):
                    response = self.url_open(f"{route}?{urlencode({'redirect': payload})}",
                                             allow_redirects=False)
                    self.assert_local(response, payload)
            for path in LOCAL:  # a local path is where the user goes
                response = self.url_open(f"{route}?{urlencode({'redirect': path})}",
                                         allow_redirects=False)
                self.assertTrue(self.assert_local(response, path).endswith(path), path)

    def test_after_forced_enrolment(self):
        """The page that ends an enrolment links to where the login was going."""
        for payload in OPEN_REDIRECTS:
            with self.subTest(payload=payload):
                self.opener.cookies.clear()
                page = self.url_open("/web/login").text
                csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
                self.url_open("/web/login", data={
                    "login": "redirect.admin", "password": "redirect-admin-pass",
                    "csrf_token": csrf, "redirect": payload}, allow_redirects=False)
                url = f"/web/login/totp/enroll?{urlencode({'redirect': payload})}"
                page = self.url_open(url).text
                secret = re.search(r'class="o_totp_secret">([A-Z2-7 ]+)<', page).group(1)
                csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
                done = self.url_open(url, data={
                    "totp_token": pyotp.TOTP(secret.replace(" ", "")).now(),
                    "csrf_token": csrf}, allow_redirects=False)
                anchor = re.search(r"<a[^>]*o_recovery_continue[^>]*>", done.text).group(0)
                self.assert_local_link(html.unescape(re.search(r'href="([^"]*)"', anchor)
                                                     .group(1)), payload)
                self.admin.sudo().totp_secret = False  # enrol again next time
