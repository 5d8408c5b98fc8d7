import xmlrpc.client
from datetime import timedelta

from odoo import fields, http
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import SQL, mute_logger

from odoo.addons.base.controllers.rpc import RPC_FAULT_CODE_ACCESS_ERROR

from .common import password_logins_for_admins, role_users

ADMIN_PASSWORD = "role-admin-password"
VIEWER_PASSWORD = "role-viewer-password"


@tagged("post_install", "-at_install")
class TestHostileAdminOverRpc(HttpCase):
    """The attacks of issue 11, by a real Admin account over XML-RPC: what the
    server decides from the authenticated principal, not from env.uid."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)
        password_logins_for_admins(cls.env)

    def rpc(self, model, method, *args, uid=None, password=ADMIN_PASSWORD, **kw):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, uid or self.admin.id, password, model, method, list(args), kw)

    def assertRefused(self, model, method, *args, **kw):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(model, method, *args, **kw)
        self.assertEqual(caught.exception.faultCode, RPC_FAULT_CODE_ACCESS_ERROR,
                         caught.exception.faultString)
        return caught.exception

    def owner_password_unchanged(self):
        self.owner.invalidate_recordset()
        self.owner.with_user(self.owner)._check_credentials(
            {"type": "password", "password": "admin"}, {"interactive": True})
        self.assertEqual(self.owner.login, "admin")

    @mute_logger("odoo.http", "odoo.addons.security_roles.models.base")
    def test_attacks(self):
        owner_xmlid = self.env["ir.model.data"].search([
            ("module", "=", "security_roles"), ("name", "=", "group_role_owner")])
        rule = self.env["ir.rule"].search([("active", "=", True)], limit=1)
        settings, internal = self.env.ref("base.group_system"), self.env.ref("base.group_user")
        # the Owner's own policy (relaxed for the password logins of these tests)
        self.env["ir.config_parameter"].set_param("auth_saml_all_tiers.mfa_owner", "required")
        attacks = {
            "re-point the Owner group's external ID": (
                "ir.model.data", "write", owner_xmlid.ids, {"res_id": self.groups["admin"].id}),
            "delete the Owner group's external ID": ("ir.model.data", "unlink", owner_xmlid.ids),
            "Owner's e-mail": ("res.users", "write", self.owner.ids, {"email": "x@evil.test"}),
            "Owner's partner e-mail": ("res.partner", "write", self.owner.partner_id.ids,
                                       {"email": "x@evil.test"}),
            "Owner out of Settings": ("res.users", "write", self.owner.ids,
                                      {"groups_id": [(3, settings.id)]}),
            "Owner out of Internal User": ("res.users", "write", self.owner.ids,
                                           {"groups_id": [(3, internal.id)]}),
            "code server action": ("ir.actions.server", "create", {
                "name": "x", "model_id": self.env.ref("base.model_res_users").id,
                "state": "code", "code": "env.user"}),
            "Owner's 2FA policy": ("ir.config_parameter", "set_param",
                                   "auth_saml_all_tiers.mfa_owner", "optional"),
            "switch off a record rule": ("ir.rule", "write", rule.ids, {"active": False}),
            "install a module": ("ir.module.module", "button_immediate_install",
                                 self.env["ir.module.module"].search(
                                     [("state", "=", "uninstalled")], limit=1).ids),
            "read database.secret": ("ir.config_parameter", "get_param", "database.secret"),
        }
        for name, (model, method, *args) in attacks.items():
            with self.subTest(attack=name):
                kw = {"context": {"no_add_implied_groups": True}} if "Owner out" in name else {}
                self.assertRefused(model, method, *args, **kw)
        self.assertEqual(self.env["res.groups"]._security_owner_ids(), {self.owner.id})
        self.assertIn(settings, self.owner.groups_id)
        self.assertTrue(rule.active)
        self.owner_password_unchanged()

    @mute_logger("odoo.http", "odoo.addons.security_roles.models.base")
    def test_code_acting_as_the_owner_still_acts_as_the_admin(self):
        """A code action the Owner wrote, run by an Admin, cannot borrow the
        Owner's identity with with_user()."""
        owner = self.owner.id
        codes = {
            "password": f"env['res.users'].browse({owner}).with_user({owner}).sudo()"
                        ".write({'password': 'owner-taken-1234'})",
            "full key": f"env['res.users.apikeys'].with_user({owner}).sudo()._generate("
                        "None, 'stolen', datetime.datetime.now() + datetime.timedelta(days=1))",
        }
        for name, code in codes.items():
            with self.subTest(code=name):
                action = self.env["ir.actions.server"].create({
                    "name": name, "model_id": self.env.ref("base.model_res_users").id,
                    "state": "code", "code": code})
                self.assertRefused("ir.actions.server", "run", action.ids)
        self.assertFalse(self.owner.api_key_ids)
        self.owner_password_unchanged()

    @mute_logger("odoo.http")
    def test_unknown_key_scope_is_refused(self):
        key = self.env["res.users.apikeys"].with_user(self.editor)._generate(
            None, "integration", fields.Datetime.now() + timedelta(days=1))
        self.assertEqual(self.rpc("res.partner", "search_count", [], uid=self.editor.id,
                                  password=key), self.env["res.partner"].search_count([]))
        self.env.cr.execute(SQL("UPDATE res_users_apikeys SET security_scope = 'admin'"
                                " WHERE user_id = %s", self.editor.id))
        self.env.registry.clear_cache()
        with self.assertRaises(xmlrpc.client.Fault):
            self.rpc("res.partner", "search_count", [], uid=self.editor.id, password=key)


@tagged("post_install", "-at_install")
class TestViewerOverHttp(HttpCase):
    """A Viewer's session changes nothing others see, through core routes that
    run as sudo too; the web client still works for a Viewer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)
        cls.partner = cls.env["res.partner"].create({"name": "Shared customer"})
        cls.channel = cls.env["discuss.channel"].create({"name": "general-test"})
        cls.channel._add_members(users=cls.viewer | cls.editor)
        cls.message = cls.partner.message_post(body="hello", message_type="comment")

    def counts(self):
        self.env.invalidate_all()
        return {
            "messages": self.env["mail.message"].search_count([]),
            "attachments": self.env["ir.attachment"].search_count([]),
            "followers": self.env["mail.followers"].search_count([]),
            "reactions": self.env["mail.message.reaction"].search_count([]),
            "activities": self.env["mail.activity"].search_count([]),
            "channels": self.env["discuss.channel"].search_count([]),
        }

    @mute_logger("odoo.http", "odoo.addons.security_roles.models.base")
    def test_viewer_routes_change_nothing(self):
        self.authenticate("role.viewer", VIEWER_PASSWORD)
        before = self.counts()
        attempts = {
            "post on a record": ("/mail/message/post", {
                "thread_model": "res.partner", "thread_id": self.partner.id,
                "post_data": {"body": "viewer was here", "message_type": "comment"}}),
            "post in Discuss": ("/mail/message/post", {
                "thread_model": "discuss.channel", "thread_id": self.channel.id,
                "post_data": {"body": "viewer chat", "message_type": "comment"}}),
            "react": ("/mail/message/reaction", {
                "message_id": self.message.id, "content": "👍", "action": "add"}),
            "follow": ("/web/dataset/call_kw/res.partner/message_subscribe", {
                "model": "res.partner", "method": "message_subscribe",
                "args": [[self.partner.id]], "kwargs": {"partner_ids": [
                    self.viewer.partner_id.id]}}),
            "schedule an activity": ("/web/dataset/call_kw/res.partner/activity_schedule", {
                "model": "res.partner", "method": "activity_schedule",
                "args": [[self.partner.id]], "kwargs": {"summary": "x"}}),
        }
        for name, (route, params) in attempts.items():
            with self.subTest(route=name):
                try:
                    self.make_jsonrpc_request(route, params)
                except JsonRpcException:
                    pass  # refused with an error: fine, what counts is below
                self.assertEqual(self.counts(), before, name)
        self.upload()
        self.assertEqual(self.counts(), before, "upload")
        # the same requests work for an Editor: they were real attempts
        self.authenticate("role.editor", "role-editor-password")
        for name in ("post on a record", "post in Discuss", "react", "follow"):
            self.make_jsonrpc_request(*attempts[name])
        self.assertEqual(self.upload().status_code, 200)
        after = self.counts()
        for kind in ("messages", "attachments", "followers", "reactions"):
            self.assertGreater(after[kind], before[kind], kind)

    def upload(self):
        return self.url_open("/mail/attachment/upload", data={
            "thread_id": self.partner.id, "thread_model": "res.partner",
            "csrf_token": http.Request.csrf_token(self),
        }, files={"ufile": ("upload.txt", b"an upload", "text/plain")})

    def test_viewer_personal_state_still_works(self):
        self.authenticate("role.viewer", VIEWER_PASSWORD)
        self.make_jsonrpc_request("/web/dataset/call_kw/res.users/write", {
            "model": "res.users", "method": "write",
            "args": [[self.viewer.id], {"tz": "Europe/Brussels"}], "kwargs": {}})
        self.viewer.invalidate_recordset()
        self.assertEqual(self.viewer.tz, "Europe/Brussels")
        self.make_jsonrpc_request("/discuss/channel/mark_as_read", {
            "channel_id": self.channel.id, "last_message_id": self.message.id})

    def test_web_client_loads_for_a_viewer(self):
        self.browser_js("/odoo", "console.log('test successful')", "odoo.isReady",
                        login="role.viewer")
        self.browser_js("/odoo/discuss", "console.log('test successful')", "odoo.isReady",
                        login="role.viewer")
