"""Every redirect parameter the suite handles sends the browser to a local
path only, whatever the payload (the corpus in redirect_payloads)."""
from urllib.parse import urlsplit

from odoo.tests import HttpCase, new_test_user, tagged

from .redirect_payloads import LOCAL, OPEN_REDIRECTS


@tagged("post_install", "-at_install")
class TestRedirects(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, "redirect.editor", "security_roles.group_role_editor",
                                 password="redirect-editor-pass")

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
                    response = self.url_open(route, params={"redirect": payload},
                                             allow_redirects=False)
                    self.assert_local(response, payload)
            for path in LOCAL:  # a local path is where the user goes
                response = self.url_open(route, params={"redirect": path},
                                         allow_redirects=False)
                self.assertTrue(self.assert_local(response, path).endswith(path), path)
