import json

from odoo.tests import new_test_user, tagged

from .common import LoginCase
from .passkey import SoftPasskey
from .saml_idp import make_keypair


@tagged("post_install", "-at_install")
class TestPasskeyLogin(LoginCase):
    """Core's passkey login (auth_passkey) is one more way in: it obeys the
    same "SSO only" and two-factor policy as a password. Real WebAuthn
    assertions, signed by a software authenticator, over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(cls.env, "pk.admin", "security_roles.group_role_admin",
                                  password="pk-admin-password")
        cls.editor = new_test_user(cls.env, "pk.editor", "security_roles.group_role_editor",
                                   password="pk-editor-password")

    def setUp(self):
        super().setUp()
        # the relying party is this test server, as a browser would see it
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())

    def passkey_login(self, user, passkey):
        """Log in with `passkey` as the login page's passkey button does."""
        challenge = self.make_jsonrpc_request("/auth/passkey/start-auth")["challenge"]
        response = passkey.assertion(challenge, self.base_url(), "127.0.0.1", user.id)
        page = self.url_open("/web/login").text
        return self.url_open("/web/login", data={
            # as the login form posts it: its login and password inputs are empty
            "login": "", "password": "", "type": "webauthn", "webauthn_response": response,
            "csrf_token": self.csrf(page)},
            allow_redirects=False)

    def test_a_passkey_logs_in_a_user_whose_policy_asks_for_no_second_factor(self):
        passkey = SoftPasskey()
        passkey.register(self.env, self.editor)
        response = self.passkey_login(self.editor, passkey)
        self.assertEqual(response.status_code, 303, response.text[:3000])
        self.assertEqual(self.session_uid(), self.editor.id)
        # a replayed or forged assertion does not
        self.opener.cookies.clear()
        forged = SoftPasskey()
        forged.credential_id = passkey.credential_id
        self.assertNotEqual(self.passkey_login(self.editor, forged).status_code, 303)
        self.assertFalse(self.session_uid())

    def test_a_passkey_does_not_skip_the_two_factor_enrolment_a_role_requires(self):
        self.assertTrue(self.admin.mfa_required)
        self.assertFalse(self.admin.totp_enabled)
        passkey = SoftPasskey()
        passkey.register(self.env, self.admin)
        response = self.passkey_login(self.admin, passkey)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login/totp/enroll", response.headers["Location"])
        self.assertFalse(self.session_uid(), "the session is not open before the enrolment")
        self.assertIn("/web/login", self.url_open("/odoo", allow_redirects=False)
                      .headers.get("Location", ""))

    def test_sso_only_closes_the_passkey_login(self):
        provider = self.env["auth.saml.provider"].create({
            "name": "Corporate IdP", "idp_entity_id": "https://idp.example.com",
            "idp_sso_url": "https://idp.example.com/sso", "idp_certificates": make_keypair()[1],
            "email_domains": "corp.example.com", "sso_only": True,
        })
        self.editor.sudo().write({"saml_provider_id": provider.id, "saml_uid": "pk.editor"})
        passkey = SoftPasskey()
        passkey.register(self.env, self.editor)
        response = self.passkey_login(self.editor, passkey)
        self.assertNotEqual(response.status_code, 303)
        self.assertIn("This account signs in with Corporate IdP", response.text)
        self.assertFalse(self.session_uid())
        # archived provider: its rule goes with it
        provider.active = False
        self.opener.cookies.clear()
        self.assertEqual(self.passkey_login(self.editor, passkey).status_code, 303)
        self.assertEqual(self.session_uid(), self.editor.id)

    def test_the_software_passkey_is_checked_for_real(self):
        # the login tests above mean something only if core verifies the signature
        passkey = SoftPasskey()
        passkey.register(self.env, self.editor)
        challenge = self.make_jsonrpc_request("/auth/passkey/start-auth")["challenge"]
        response = json.loads(passkey.assertion(challenge, self.base_url(), "127.0.0.1",
                                                self.editor.id))
        response["response"]["signature"] = response["response"]["signature"][:-4] + "AAAA"
        page = self.url_open("/web/login").text
        refused = self.url_open("/web/login", data={
            "login": "", "password": "", "type": "webauthn",
            "webauthn_response": json.dumps(response),
            "csrf_token": self.csrf(page)}, allow_redirects=False)
        self.assertNotEqual(refused.status_code, 303)
        self.assertFalse(self.session_uid())
