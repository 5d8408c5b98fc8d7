from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from ..surfaces import FUNCTIONAL_MODELS, technical_reason
from .common import RolesCase

# Known surfaces a scan must find, whatever else it finds.
KNOWN_SURFACES = {
    "ir.actions.server", "ir.cron", "ir.ui.view", "ir.ui.menu", "ir.actions.report",
    "ir.actions.act_window", "ir.asset", "ir.model", "ir.model.fields", "ir.model.data",
    "res.groups", "ir.model.access", "ir.rule", "ir.module.module", "ir.mail_server",
    "ir.config_parameter", "ir.default", "base.module.upgrade", "base.module.uninstall",
}
OPERATIONS = ("create", "write", "unlink")


def technical_models(env):
    for name, model in env.registry.items():
        if model._abstract:
            continue
        if env[name]._security_technical_reason():
            yield name


@tagged("post_install", "-at_install")
class TestTechnicalSurfaces(RolesCase):
    """Admin is not root: the registry's technical surfaces are the Owner's."""

    def test_scan_finds_every_model_with_code_or_security_fields(self):
        found = set(technical_models(self.env))
        self.assertLessEqual(KNOWN_SURFACES & set(self.env.registry.models), found)
        for name, model in self.env.registry.items():
            if model._abstract or name in FUNCTIONAL_MODELS:
                continue
            for field in model._fields.values():
                # any field naming groups defines security, wherever it is
                if field.comodel_name == "res.groups":
                    self.assertIn(name, found, f"{name}.{field.name} names groups")
        # every functional exception is a model the rules would otherwise catch
        for name in FUNCTIONAL_MODELS:
            if name in self.env.registry:
                fields_ = [(f.name, f.type, f.comodel_name)
                           for f in self.env[name]._fields.values()]
                self.assertFalse(technical_reason(name, fields_))

    @mute_logger("odoo.addons.security_roles.models.base")
    def test_admin_refused_owner_allowed_on_every_surface(self):
        models_ = sorted(technical_models(self.env))
        self.assertGreater(len(models_), 40)
        for name in models_:
            if name == "ir.config_parameter":
                continue  # key by key: test_system_parameters
            record = self.env[name].sudo().with_context(active_test=False).search([], limit=1)
            for operation in OPERATIONS:
                with self.subTest(model=name, operation=operation):
                    if operation != "create" and not record:
                        continue
                    for user, allowed in ((self.admin, False), (self.owner, True)):
                        target = (self.env[name] if operation == "create" else record) \
                            .with_user(user)
                        kwargs = {"vals_list": [{}]} if operation == "create" else {"vals": {}}
                        if allowed:
                            target._security_guard(operation, **kwargs)
                        else:
                            with self.assertRaises(AccessError):
                                target._security_guard(operation, **kwargs)

    def test_admin_real_writes_refused(self):
        """Not only the guard: the real ORM calls, sudo() included."""
        rule = self.env["ir.rule"].search([], limit=1)
        view = self.env.ref("base.view_users_form")
        attempts = {
            "server action": lambda: self.env["ir.actions.server"].with_user(self.admin).create({
                "name": "x", "model_id": self.env.ref("base.model_res_users").id,
                "state": "code", "code": "env.user"}),
            "cron": lambda: self.env.ref("base.autovacuum_job").with_user(self.admin).write(
                {"code": "model.env.cr.execute('SELECT 1')"}),
            "view": lambda: view.with_user(self.admin).sudo().write(
                {"arch_db": view.arch_db}),
            "record rule off": lambda: rule.with_user(self.admin).write({"active": False}),
            "record rule deleted": lambda: rule.with_user(self.admin).sudo().unlink(),
            "access right": lambda: self.env["ir.model.access"].with_user(self.admin).create({
                "name": "x", "model_id": self.env.ref("base.model_res_users").id,
                "perm_unlink": True}),
            "group implied": lambda: self.env.ref("base.group_user").with_user(self.admin).write(
                {"implied_ids": [Command.link(self.env.ref("base.group_no_one").id)]}),
            "xmlid re-pointed": lambda: self.env["ir.model.data"].with_user(self.admin).sudo()
            .search([("module", "=", "security_roles"), ("name", "=", "group_role_owner")])
            .write({"res_id": self.groups["admin"].id}),
            "xmlid deleted": lambda: self.env["ir.model.data"].with_user(self.admin)
            .search([("module", "=", "security_roles"), ("name", "=", "group_role_owner")])
            .unlink(),
            "mail server": lambda: self.env["ir.mail_server"].with_user(self.admin).create(
                {"name": "x", "smtp_host": "127.0.0.1"}),
            "manual field": lambda: self.env["ir.model.fields"].with_user(self.admin).create({
                "name": "x_test", "model_id": self.env.ref("base.model_res_partner").id,
                "ttype": "char", "compute": "for r in self: r['x_test'] = 1"}),
        }
        for path, attempt in attempts.items():
            with self.subTest(path=path), self.assertRaises(AccessError):
                attempt()

    def test_modules_refused_by_every_route(self):
        module = self.env["ir.module.module"].search([("state", "=", "uninstalled")], limit=1)
        installed = self.env["ir.module.module"].search([("name", "=", "auth_totp")])
        routes = {
            "button_install": lambda: module.with_user(self.admin).button_install(),
            "button_immediate_install": lambda: module.with_user(self.admin)
            .button_immediate_install(),
            "button_uninstall": lambda: installed.with_user(self.admin).button_uninstall(),
            "button_immediate_uninstall": lambda: installed.with_user(self.admin)
            .button_immediate_uninstall(),
            "button_upgrade": lambda: installed.with_user(self.admin).button_upgrade(),
            "button_immediate_upgrade": lambda: installed.with_user(self.admin)
            .button_immediate_upgrade(),
            "update_list": lambda: self.env["ir.module.module"].with_user(self.admin).sudo()
            .update_list(),
            "state write": lambda: installed.with_user(self.admin).sudo().write(
                {"state": "to remove"}),
            "settings checkbox": lambda: self.env["res.config.settings"].with_user(self.admin)
            .create({"module_base_import": not self.env["ir.module.module"].search(
                [("name", "=", "base_import"), ("state", "=", "installed")])}).execute(),
        }
        for route, attempt in routes.items():
            with self.subTest(route=route), self.assertRaises(AccessError):
                attempt()
        self.assertEqual(module.state, "uninstalled")
        self.assertEqual(installed.state, "installed")

    def test_system_parameters(self):
        ICP = self.env["ir.config_parameter"].with_user(self.admin)
        ICP.set_param("security_roles.inactive_days", "30")  # a Settings page's
        self.assertEqual(ICP.sudo().get_param("security_roles.inactive_days"), "30")
        for key in ("auth_saml_all_tiers.mfa_owner", "web.base.url", "database.secret",
                    "auth_signup.reset_password", "base.template_portal_user_id",
                    "some.unknown.key"):
            with self.subTest(key=key), self.assertRaises(AccessError):
                ICP.sudo().set_param(key, "changed-by-an-admin")
        secret = ICP.sudo().search([("key", "=", "database.secret")])
        with self.assertRaises(AccessError):
            ICP.get_param("database.secret")
        self.assertFalse(ICP.search([("key", "=", "database.secret")]))
        with self.assertRaises(AccessError):
            secret.with_user(self.admin).read(["value"])
        with self.assertRaises(AccessError):
            secret.with_user(self.admin).unlink()
        # the Owner does what an Admin cannot
        self.env["ir.config_parameter"].with_user(self.owner).set_param("some.unknown.key", "1")
        self.assertTrue(self.env["ir.config_parameter"].with_user(self.owner).get_param(
            "database.secret"))

    def test_admin_keeps_functional_administration(self):
        partner = self.env["res.partner"].with_user(self.admin).create({"name": "Customer"})
        partner.write({"email": "customer@example.com"})
        user = self.env["res.users"].with_user(self.admin).create(
            {"name": "New", "login": "new.user", "password": "new-user-password-2026"})
        self.assertEqual(user.security_role, "editor")
        user.with_user(self.admin).write({"groups_id": [Command.link(self.groups["admin"].id)]})
        self.env["res.company"].with_user(self.admin).create({"name": "Second company"})
        settings = self.env["res.config.settings"].with_user(self.admin).create(
            {"security_inactive_days": 45})
        settings.execute()
        self.assertEqual(self.env["ir.config_parameter"].get_param(
            "security_roles.inactive_days"), "45")


@tagged("post_install", "-at_install")
class TestCredentials(RolesCase):
    """An account's credentials change only by its user or by someone holding
    every group the user holds."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.extra = cls.env["res.groups"].create({"name": "Group the Admin lacks"})
        cls.specialist = new_test_user(cls.env, "role.specialist",
                                       "security_roles.group_role_editor",
                                       password="specialist-password")
        cls.specialist.groups_id = [Command.link(cls.extra.id)]

    def test_admin_manages_a_user_below(self):
        self.editor.with_user(self.admin).write({"password": "editor-reset-2026-pass"})
        self.editor.with_user(self.admin).write({"email": "editor@example.com"})
        self.editor.partner_id.with_user(self.admin).write({"email": "editor2@example.com"})
        self.editor.with_user(self.editor)._check_credentials(
            {"type": "password", "password": "editor-reset-2026-pass"}, {"interactive": True})

    def test_admin_cannot_take_over_a_user_with_more_groups(self):
        target = self.specialist
        attempts = {
            "password": lambda: target.with_user(self.admin).write({"password": "taken-over-123"}),
            "login": lambda: target.with_user(self.admin).write({"login": "taken"}),
            "e-mail": lambda: target.with_user(self.admin).write({"email": "evil@example.com"}),
            "partner e-mail": lambda: target.partner_id.with_user(self.admin).sudo().write(
                {"email": "evil@example.com"}),
            "partner": lambda: target.with_user(self.admin).write(
                {"partner_id": self.admin.partner_id.id}),
            "2FA off": lambda: target.with_user(self.admin).sudo().write({"totp_secret": False}),
        }
        # a key minted with with_user(target) by someone else's code: over RPC,
        # where the principal decides (test_admin_not_root_http)
        for path, attempt in attempts.items():
            with self.subTest(path=path), self.assertRaises(AccessError):
                attempt()
        self.assertEqual(target.login, "role.specialist")

    def test_admin_cannot_take_over_the_owner(self):
        for vals in ({"email": "evil@example.com"}, {"password": "owner-taken-1234"},
                     {"login": "taken"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                self.owner.with_user(self.admin).sudo().write(vals)
        with self.assertRaises(AccessError):
            self.owner.partner_id.with_user(self.admin).write({"email": "evil@example.com"})

    def test_admin_cannot_revoke_keys_of_a_user_with_more_groups(self):
        key_user = self.specialist.with_user(self.specialist)
        key_user.env["res.users.apikeys"]._generate(None, "integration",
                                                    fields.Datetime.now() + timedelta(days=1))
        key = self.specialist.api_key_ids
        with self.assertRaises(AccessError):
            key.with_user(self.admin).sudo().unlink()
        self.assertTrue(key.exists())
        key.with_user(self.specialist)._remove()  # the user revokes their own
        self.assertFalse(key.exists())

    def test_owner_membership_any_group(self):
        settings = self.env.ref("base.group_system")
        internal = self.env.ref("base.group_user")
        attempts = {
            "Settings removed": lambda: self.owner.with_user(self.admin).with_context(
                no_add_implied_groups=True).write({"groups_id": [Command.unlink(settings.id)]}),
            "Internal User removed": lambda: self.owner.with_user(self.admin).with_context(
                no_add_implied_groups=True).write({"groups_id": [Command.unlink(internal.id)]}),
            "group added": lambda: self.owner.with_user(self.admin).write(
                {"groups_id": [Command.link(self.extra.id)]}),
        }
        before = set(self.owner.groups_id.ids)
        for path, attempt in attempts.items():
            with self.subTest(path=path), self.assertRaises(AccessError):
                attempt()
        self.assertEqual(set(self.owner.groups_id.ids), before)
        # the Owner may change their own
        self.owner.with_user(self.owner).write({"groups_id": [Command.link(self.extra.id)]})
        self.assertIn(self.extra, self.owner.groups_id)

    def test_role_groups_do_not_follow_external_ids(self):
        data = self.env["ir.model.data"].search([("module", "=", "security_roles"),
                                                 ("name", "=", "group_role_owner")])
        decoy = self.env["res.groups"].create({"name": "Decoy", "users": [
            Command.link(self.admin.id)]})
        data.write({"res_id": decoy.id})  # as the superuser: a re-pointed external ID
        self.env.registry.clear_cache()
        self.assertEqual(self.env["res.groups"]._security_owner_ids(), {self.owner.id})
        self.assertEqual(self.admin.security_role, "admin")
        with self.assertRaises(AccessError):
            self.owner.with_user(self.admin).write({"password": "owner-taken-1234"})
        data.unlink()
        self.env.registry.clear_cache()
        self.assertEqual(self.env["res.groups"]._security_owner_ids(), {self.owner.id})


@tagged("post_install", "-at_install")
class TestTechnicalAccess(RolesCase):
    """The Owner lends one Admin the technical surfaces, for a while."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # one running grant at a time: none from elsewhere in this database
        cls.env.cr.execute("UPDATE security_technical_access SET revoked_at = now()"
                           " WHERE revoked_at IS NULL")

    def grant(self, hours=2.0, user=None):
        return self.env["security.technical.access"].with_user(self.owner).create({
            "user_id": (user or self.admin).id, "reason": "install the Sales app",
            "duration_hours": hours})

    def make_view(self, user):
        return self.env["ir.ui.view"].with_user(user).create({
            "name": "granted view", "type": "qweb", "arch": "<t t-name='x'><p>x</p></t>"})

    def events(self, action):
        if "audit.event" not in self.env:
            return None
        return self.env["audit.event"].sudo().search([("action", "=", action)])

    def test_grant_use_expiry(self):
        with self.assertRaises(AccessError):
            self.make_view(self.admin)
        with freeze_time("2026-06-01 10:00:00"):
            grant = self.grant(hours=2)
            self.assertEqual(grant.state, "running")
            self.make_view(self.admin)  # can do what the Owner can
            self.assertTrue(grant.first_use_at)
            # the Owner is alerted: a message in the grant's chatter for the Owner
            self.assertIn(self.owner.partner_id,
                          grant.message_ids.notification_ids.res_partner_id)
            self.assertTrue(any("started using" in (body or "")
                                for body in grant.message_ids.mapped("body")))
            # another Admin is not lifted
            with self.assertRaises(AccessError):
                self.make_view(self.admin2)
        with freeze_time("2026-06-01 12:00:01"):
            self.assertEqual(grant.state, "ended")
            with self.assertRaises(AccessError):
                self.make_view(self.admin)
            self.env["security.technical.access"]._cron_announce_ended()
            self.assertTrue(grant.end_announced)
        if self.events("technical_access.grant") is not None:
            for action in ("technical_access.grant", "technical_access.use",
                           "technical_access.end"):
                self.assertTrue(self.events(action), action)

    def test_revoke(self):
        grant = self.grant()
        self.make_view(self.admin)
        grant.with_user(self.owner).action_revoke()
        self.assertEqual(grant.state, "revoked")
        with self.assertRaises(AccessError):
            self.make_view(self.admin)
        if self.events("technical_access.revoke") is not None:
            self.assertTrue(self.events("technical_access.revoke"))

    def test_admin_ends_own_access_early(self):
        grant = self.grant()
        grant.with_user(self.admin).action_revoke()
        self.assertEqual(grant.state, "revoked")

    def test_only_the_owner_grants(self):
        with self.assertRaises(AccessError):
            self.env["security.technical.access"].with_user(self.admin).sudo().create({
                "user_id": self.admin.id, "reason": "me", "duration_hours": 1})
        grant = self.grant()
        # a granted Admin cannot extend or re-grant it either
        with self.assertRaises(AccessError):
            grant.with_user(self.admin).sudo().write({"date_end": "2099-01-01"})
        with self.assertRaises(AccessError):
            self.env["security.technical.access"].with_user(self.admin).create({
                "user_id": self.admin2.id, "reason": "friend", "duration_hours": 1})
        with self.assertRaises(AccessError):
            grant.with_user(self.admin2).action_revoke()  # not theirs
        self.env["ir.config_parameter"].with_user(self.admin).set_param(
            "security_roles.technical_access_max_hours", "1000")  # the grant allows it...
        grant.with_user(self.owner).action_revoke()
        with self.assertRaises(AccessError):  # ...and nothing once it has ended
            self.env["ir.config_parameter"].with_user(self.admin).set_param(
                "security_roles.technical_access_max_hours", "2000")
        # even a technical-access Admin does not touch the Owner's groups or password
        with self.assertRaises(AccessError):
            self.owner.with_user(self.admin).write({"password": "owner-taken-1234"})
        with self.assertRaises(AccessError):
            self.owner.with_user(self.admin).with_context(no_add_implied_groups=True).write(
                {"groups_id": [Command.unlink(self.env.ref("base.group_system").id)]})

    def test_limits(self):
        with self.assertRaises(UserError):
            self.grant(hours=9)  # 8 hours at most by default
        self.env["ir.config_parameter"].with_user(self.owner).set_param(
            "security_roles.technical_access_max_hours", "12")
        self.grant(hours=9)
        with self.assertRaises(UserError):
            self.grant(hours=1, user=self.admin2)  # one Admin at a time
        with self.assertRaises(UserError):
            self.env["security.technical.access"].with_user(self.owner).create({
                "user_id": self.editor.id, "reason": "x", "duration_hours": 1})


@tagged("post_install", "-at_install")
class TestReviewedPaths(RolesCase):
    """Paths a hostile review found: code that runs later as the server."""

    @mute_logger("odoo.addons.security_roles.models.base")
    def test_templates_with_code_are_the_owners(self):
        unsafe = '<t t-out="object.env[\'ir.config_parameter\'].sudo().get_param(\'database.secret\')"/>'
        vals = {"name": "x", "model_id": self.env.ref("base.model_res_users").id,
                "body_html": unsafe}
        with self.assertRaises(AccessError):
            self.env["mail.template"].with_user(self.admin).create(vals)
        plain = self.env["mail.template"].with_user(self.admin).create(
            dict(vals, body_html='<p>Hello <t t-out="object.name"/></p>'))
        with self.assertRaises(AccessError):
            plain.with_user(self.admin).write({"body_html": unsafe})
        self.env["mail.template"].with_user(self.owner).create(vals)

    @mute_logger("odoo.addons.security_roles.models.base")
    def test_no_alias_on_grants_or_surfaces(self):
        for model in ("security.technical.access", "ir.actions.server"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env["mail.alias"].with_user(self.admin).create({
                    "alias_name": model.replace(".", "-"),
                    "alias_model_id": self.env["ir.model"]._get_id(model),
                    "alias_defaults": "{}"})
        # nor can server code (the mail gateway is the superuser) grant access
        with self.assertRaises(AccessError):
            self.env["security.technical.access"].create({
                "user_id": self.admin.id, "reason": "by e-mail", "duration_hours": 8})

    def test_asset_bundles_are_not_rewritten(self):
        bundle = self.env["ir.attachment"].create({
            "name": "web.assets_test.min.js", "url": "/web/assets/1/web.assets_test.min.js",
            "raw": b"console.log('genuine')", "mimetype": "application/javascript",
            "res_model": "ir.ui.view", "public": True})
        with self.assertRaises(AccessError):
            bundle.with_user(self.admin).sudo().write({"raw": b"steal(document.cookie)"})
        self.assertEqual(bundle.raw, b"console.log('genuine')")

    def test_sessions_of_a_user_above_are_not_revoked(self):
        self.env["res.device.log"].create({
            "session_identifier": "owner-session", "user_id": self.owner.id,
            "first_activity": fields.Datetime.now(), "last_activity": fields.Datetime.now(),
            "revoked": False})
        device = self.env["res.device"].search([("session_identifier", "=", "owner-session")])
        self.assertTrue(device)
        with self.assertRaises(AccessError):
            device.with_user(self.admin)._revoke()

    def test_settings_hide_secrets_from_admins(self):
        # a secret on a Settings page of mail, which this addon depends on
        self.env["ir.config_parameter"].set_param("mail.twilio_account_token", "tw-secret")
        values = self.env["res.config.settings"].with_user(self.admin).default_get(
            ["twilio_account_token"])
        self.assertFalse(values.get("twilio_account_token"))
        self.env["res.config.settings"].with_user(self.admin).create(
            {"security_inactive_days": 60}).execute()
        self.assertEqual(self.env["ir.config_parameter"].get_param(
            "mail.twilio_account_token"), "tw-secret")
        values = self.env["res.config.settings"].with_user(self.owner).default_get(
            ["twilio_account_token"])
        self.assertEqual(values.get("twilio_account_token"), "tw-secret")

    def test_imports_do_not_reserve_module_external_ids(self):
        result = self.env["res.partner"].with_user(self.admin).load(
            ["id", "name"], [["sale.reserved_partner", "Reserved"]])
        self.assertFalse(result["ids"])
        self.assertFalse(self.env.ref("sale.reserved_partner", raise_if_not_found=False))
        result = self.env["res.partner"].with_user(self.admin).load(
            ["id", "name"], [["my_partner_1", "Imported"]])
        self.assertTrue(result["ids"])
        self.assertTrue(self.env.ref("__import__.my_partner_1"))
