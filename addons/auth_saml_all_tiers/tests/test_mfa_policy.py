import html
import json
import re
import xmlrpc.client

import pyotp

from odoo.exceptions import AccessDenied, UserError
from odoo.tests import new_test_user, tagged

from ..models.mfa_policy import RECOVERY_CODE_RE
from .common import LoginCase, secret_forms

CODE_RE = re.compile(r'class="o_recovery_code">([A-Z2-7-]+)<')


@tagged("post_install", "-at_install")
class TestMfaPolicy(LoginCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(cls.env, "mfa.admin", "security_roles.group_role_admin",
                                  password="mfa-admin-password")
        cls.editor = new_test_user(cls.env, "mfa.editor", "security_roles.group_role_editor",
                                   password="mfa-editor-password")

    def enroll(self):
        """Enrolment page: returns (pyotp.TOTP, page html)."""
        page = self.url_open("/web/login/totp/enroll").text
        secret = re.search(r'class="o_totp_secret">([A-Z2-7 ]+)<', page).group(1)
        self.assertIn("data:image/png;base64,", page)
        return pyotp.TOTP(secret.replace(" ", "")), page

    def post_code(self, path, code, page):
        return self.url_open(path, data={"totp_token": code, "csrf_token": self.csrf(page)},
                             allow_redirects=False)

    def audit(self, action, outcome):
        if "audit.event" not in self.env:
            return None
        return self.env["audit.event"].sudo().search(
            [("action", "=", action), ("outcome", "=", outcome), ("uid", "=", self.admin.id)])

    def test_admin_must_enrol_at_next_login(self):
        self.assertTrue(self.admin.mfa_required)
        self.assertFalse(self.editor.mfa_required)
        response = self.form_login("mfa.admin", "mfa-admin-password")
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login/totp/enroll", response.headers["Location"])
        self.assertFalse(self.session_uid())
        # the rest of the application is closed to the half-open session
        self.assertIn("/web/login", self.url_open("/odoo", allow_redirects=False)
                      .headers.get("Location", ""))
        totp, page = self.enroll()
        wrong = self.post_code("/web/login/totp/enroll", "000000" if totp.now() != "000000"
                               else "111111", page)
        self.assertIn("Verification failed", wrong.text)
        self.assertFalse(self.session_uid())
        code = totp.now()
        done = self.post_code("/web/login/totp/enroll", code, page)
        self.assertEqual(done.status_code, 200)
        codes = CODE_RE.findall(done.text)
        self.assertEqual(len(codes), 10)
        self.assertEqual(self.session_uid(), self.admin.id)
        self.admin.invalidate_recordset()
        self.assertTrue(self.admin.totp_enabled)
        self.assertEqual(self.admin.recovery_code_count, 10)
        if "audit.event" in self.env:
            self.assertTrue(self.audit("totp.enroll", "success"))
        # the enrolment code does not log in a second time
        self.opener.cookies.clear()
        self.form_login("mfa.admin", "mfa-admin-password")
        page = self.url_open("/web/login/totp").text
        self.assertIn("already used", self.post_code("/web/login/totp", code, page).text)
        self.assertFalse(self.session_uid())

    def test_editor_logs_in_without_a_second_factor_unless_required(self):
        response = self.form_login("mfa.editor", "mfa-editor-password")
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.session_uid(), self.editor.id)
        self.opener.cookies.clear()
        settings = self.env["res.config.settings"].create({"mfa_policy_editor": "required"})
        settings.execute()
        self.editor.invalidate_recordset()
        self.assertTrue(self.editor.mfa_required)
        response = self.form_login("mfa.editor", "mfa-editor-password")
        self.assertIn("/web/login/totp/enroll", response.headers["Location"])
        self.assertFalse(self.session_uid())

    def test_password_rpc_is_refused_to_an_account_that_must_use_2fa(self):
        common = xmlrpc.client.ServerProxy(f"{self.base_url()}/xmlrpc/2/common")
        db = self.env.cr.dbname
        self.assertFalse(common.authenticate(db, "mfa.admin", "mfa-admin-password", {}))
        self.assertEqual(common.authenticate(db, "mfa.editor", "mfa-editor-password", {}),
                         self.editor.id)

    def test_recovery_codes(self):
        self.form_login("mfa.admin", "mfa-admin-password")
        totp, page = self.enroll()
        codes = CODE_RE.findall(self.post_code("/web/login/totp/enroll", totp.now(), page).text)
        for attempt, code in enumerate((codes[0], codes[0].lower().replace("-", " "))):
            self.opener.cookies.clear()
            self.form_login("mfa.admin", "mfa-admin-password")
            page = self.url_open("/web/login/totp").text
            response = self.post_code("/web/login/totp", code, page)
            if attempt == 0:  # accepted once
                self.assertEqual(response.status_code, 303, response.text[:300])
                self.assertEqual(self.session_uid(), self.admin.id)
            else:  # the same code again, however it is typed
                self.assertIn("not valid", html.unescape(response.text))
                self.assertFalse(self.session_uid())
        self.assertEqual(self.admin.recovery_code_count, 9)
        if "audit.event" in self.env:
            self.assertTrue(self.audit("totp.recovery_code", "success"))
            self.assertTrue(self.audit("totp.recovery_code", "failure"))
        self.env.cr.execute("SELECT failures FROM auth_throttle WHERE kind = 'totp' AND key = %s",
                            [str(self.admin.id)])
        self.assertEqual(self.env.cr.fetchone()[0], 1)
        # renewed: the old codes stop working, the new ones are hashed
        # (the password re-check of @check_identity is core's, tested there)
        regenerate = type(self.admin).action_recovery_codes_regenerate.__wrapped__
        new_codes = regenerate(self.admin.with_user(self.admin))["params"]["codes"]
        self.assertEqual(len(set(new_codes)), 10)
        self.assertFalse(set(new_codes) & set(codes))
        self.env.cr.execute("SELECT code_hash FROM auth_recovery_code WHERE user_id = %s",
                            [self.admin.id])
        stored = {row[0] for row in self.env.cr.fetchall()}
        self.assertFalse(stored & set(new_codes))
        self.assertEqual(len(stored), 10)
        self.admin.with_user(self.admin)._recovery_code_check(new_codes[1])  # accepted
        with self.assertRaisesRegex(AccessDenied, "not valid"):
            self.admin.with_user(self.admin)._recovery_code_check(new_codes[1])  # once
        with self.assertRaisesRegex(AccessDenied, "not valid"):
            self.admin.with_user(self.admin)._recovery_code_check(codes[2])
        # only the user renews their own codes
        with self.assertRaisesRegex(UserError, "Only the user"):
            regenerate(self.admin.with_user(self.editor))
        # the codes go with the authenticator: a new one starts without them
        self.admin.sudo().totp_secret = False
        secret = pyotp.random_base32()
        self.assertTrue(self.admin.with_user(self.admin)._totp_try_setting(
            secret, int(pyotp.TOTP(secret).now())))
        self.admin.invalidate_recordset()
        self.assertEqual(self.admin.recovery_code_count, 0)


    def test_enrolment_codes_are_kept_nowhere(self):
        """The codes shown at enrolment are in that page only: not in the
        database (no record, transient or attachment), the session, the log
        (debug included) or a cache."""
        self.form_login("mfa.admin", "mfa-admin-password")
        totp, page = self.enroll()
        self.env.cr.execute("SELECT COALESCE(max(id), 0) FROM ir_attachment")
        last_attachment = self.env.cr.fetchone()[0]
        with self.collect_logs() as logged:
            done = self.post_code("/web/login/totp/enroll", totp.now(), page)
            self.assertEqual(self.session_uid(), self.admin.id)
        codes = CODE_RE.findall(done.text)
        self.assertEqual(len(codes), 10)
        self.assertEqual(done.headers.get("Cache-Control"), "no-store")
        self.assert_not_in_database(codes)
        self.assert_not_in_sessions(codes)
        self.assertTrue(logged)
        self.assert_not_in_logs(logged, codes)
        for attachment in self.env["ir.attachment"].sudo().search(
                [("id", ">", last_attachment)]):  # sudo: every file, whoever made it
            self.assertFalse([code for code in secret_forms(codes)
                              if code.encode() in (attachment.raw or b"")])
        self.admin.with_user(self.admin)._recovery_code_check(codes[0])  # still valid

    def test_renewed_codes_are_shown_once_and_kept_nowhere(self):
        """Renewed from the preferences: after the password, the action shows
        the codes once; no table (transient ones included), session or log
        holds them."""
        self.admin.sudo().totp_secret = pyotp.random_base32()
        self.authenticate("mfa.admin", "mfa-admin-password")
        check = self.make_jsonrpc_request("/web/dataset/call_button", {
            "model": "res.users", "method": "action_recovery_codes_regenerate",
            "args": [[self.admin.id]], "kwargs": {}})
        self.assertEqual(check["res_model"], "res.users.identitycheck")  # the password first
        self.assertFalse(self.admin.recovery_code_count)
        self.make_jsonrpc_request("/web/dataset/call_kw/res.users.identitycheck/write", {
            "model": "res.users.identitycheck", "method": "write",
            "args": [[check["res_id"]], {"password": "mfa-admin-password"}], "kwargs": {}})
        with self.collect_logs() as logged:
            action = self.make_jsonrpc_request("/web/dataset/call_button", {
                "model": "res.users.identitycheck", "method": "run_check",
                "args": [[check["res_id"]]], "kwargs": {}})
        self.assertEqual((action["type"], action["tag"], action["target"]),
                         ("ir.actions.client", "auth_saml_all_tiers.recovery_codes", "new"))
        codes = action["params"]["codes"]
        self.assertEqual(len(set(codes)), 10)
        self.assertTrue(all(RECOVERY_CODE_RE.match(code) for code in codes))
        serialized = json.dumps(action)
        self.assertEqual([serialized.count(code) for code in codes], [1] * 10)  # once each
        self.assertNotIn("auth.recovery.codes.wizard", self.env)
        self.assert_not_in_database(codes)
        self.assert_not_in_sessions(codes)
        self.assertTrue(logged)
        self.assert_not_in_logs(logged, codes)
        self.admin.invalidate_recordset()
        self.assertEqual(self.admin.recovery_code_count, 10)
        if "audit.event" in self.env:
            self.assertTrue(self.audit("totp.recovery_codes.generate", "success"))
        # each logs in once
        self.opener.cookies.clear()
        self.form_login("mfa.admin", "mfa-admin-password")
        page = self.url_open("/web/login/totp").text
        self.assertEqual(self.post_code("/web/login/totp", codes[3], page).status_code, 303)
        self.assertEqual(self.session_uid(), self.admin.id)
        with self.assertRaisesRegex(AccessDenied, "not valid"):
            self.admin.with_user(self.admin)._recovery_code_check(codes[3])

    def test_renew_codes_from_preferences_tour(self):
        """A Viewer renews their codes in Preferences and sees them in a dialog."""
        viewer = new_test_user(self.env, "recovery.viewer", "security_roles.group_role_viewer")
        viewer.sudo().totp_secret = pyotp.random_base32()
        self.start_tour("/odoo", "auth_saml_recovery_codes", login="recovery.viewer")
        viewer.invalidate_recordset()
        self.assertEqual(viewer.recovery_code_count, 10)

    def test_enrolment_redirect_is_local_only(self):
        for target in ("javascript:alert(1)", "//evil.example.com/", "https://evil.example.com/"):
            self.opener.cookies.clear()
            page = self.url_open("/web/login").text
            self.url_open("/web/login", data={"login": "mfa.admin", "password":
                                              "mfa-admin-password", "csrf_token": self.csrf(page),
                                              "redirect": target}, allow_redirects=False)
            page = self.url_open("/web/login/totp/enroll?redirect=" + target).text
            secret = re.search(r'class="o_totp_secret">([A-Z2-7 ]+)<', page).group(1)
            done = self.post_code("/web/login/totp/enroll?redirect=" + target,
                                  pyotp.TOTP(secret.replace(" ", "")).now(), page)
            anchor = re.search(r"<a[^>]*o_recovery_continue[^>]*>", done.text).group(0)
            link = html.unescape(re.search(r'href="([^"]*)"', anchor).group(1))
            self.assertTrue(link.startswith("/") and not link.startswith("//"), link)
            self.assertNotIn("evil", link)
            self.admin.sudo().totp_secret = False  # enrol again next time

    def test_required_2fa_cannot_be_turned_off_by_its_user(self):
        self.admin.sudo().totp_secret = pyotp.random_base32()
        with self.assertRaisesRegex(UserError, "requires two-factor"):
            self.admin.with_user(self.admin).action_totp_disable()
        self.assertEqual(self.admin._mfa_url(), "/web/login/totp")
        # reset by someone else (core's path): forced enrolment at the next login
        self.admin.sudo().totp_secret = False
        self.assertEqual(self.admin._mfa_url(), "/web/login/totp/enroll")
