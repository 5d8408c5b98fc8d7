from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.base.models.res_users import name_selection_groups

from .common import RolesCase


@tagged("post_install", "-at_install")
class TestRoles(RolesCase):
    def test_roles_form_one_strict_chain(self):
        g = self.groups
        self.assertEqual(g["editor"].implied_ids, g["viewer"])
        self.assertIn(g["editor"], g["admin"].implied_ids)
        self.assertEqual(g["admin"], g["owner"].implied_ids)
        self.assertIn(self.env.ref("base.group_user"), g["viewer"].trans_implied_ids)
        self.assertIn(self.env.ref("base.group_system"), g["admin"].trans_implied_ids)
        self.assertNotIn(self.env.ref("base.group_system"), g["editor"].trans_implied_ids)

    def test_user_form_shows_one_role_selector(self):
        category = self.env.ref("security_roles.module_category_workspace_role")
        apps = self.env["res.groups"].get_groups_by_application()
        kind, groups = next((kind, gs) for app, kind, gs, _cat in apps if app == category)
        self.assertEqual(kind, "selection")
        self.assertEqual(groups.mapped("name"), ["Viewer", "Editor", "Admin", "Owner"])
        field = name_selection_groups(groups.ids)
        arch = self.env["res.users"].with_user(self.admin).get_views(
            [(self.env.ref("base.view_users_form").id, "form")])[
            "views"]["form"]["arch"]
        self.assertEqual(arch.count(f'name="{field}"'), 1)

    def test_initial_admin_user_is_the_only_owner(self):
        self.assertEqual(self.owners(), {self.owner.id})
        self.assertEqual(self.owner.security_role, "owner")

    def test_each_user_has_one_role(self):
        self.assertEqual(
            [u.security_role for u in (self.owner, self.admin, self.editor, self.viewer)],
            ["owner", "admin", "editor", "viewer"])
        found = self.env["res.users"].search([("security_role", "=", "viewer")])
        self.assertIn(self.viewer, found)
        self.assertNotIn(self.editor, found)

    def test_new_internal_user_is_editor_by_default(self):
        user = self.env["res.users"].create({"name": "New", "login": "new.user@example.com"})
        self.assertEqual(user.security_role, "editor")

    def test_role_selector_sets_role(self):
        field = name_selection_groups(
            [g.id for g in (self.groups["viewer"], self.groups["editor"],
                            self.groups["admin"], self.groups["owner"])])
        self.editor.with_user(self.admin).write({field: self.groups["viewer"].id})
        self.assertEqual(self.editor.security_role, "viewer")

    def test_demoted_admin_loses_settings(self):
        settings = self.env.ref("base.group_system")
        self.assertIn(settings, self.admin2.groups_id)
        field = name_selection_groups(
            [g.id for g in (self.groups["viewer"], self.groups["editor"],
                            self.groups["admin"], self.groups["owner"])])
        self.admin2.with_user(self.admin).write({field: self.groups["editor"].id})
        self.assertEqual(self.admin2.security_role, "editor")
        self.assertNotIn(settings, self.admin2.groups_id)
        self.assertIn(self.env.ref("base.group_user"), self.admin2.groups_id)

    def test_editor_cannot_change_roles(self):
        with self.assertRaises(AccessError):
            self.viewer.with_user(self.editor).write(
                {"groups_id": [(4, self.groups["admin"].id)]})
        self.assertEqual(self.viewer.security_role, "viewer")

    def test_admin_manages_roles_below_owner(self):
        user = new_test_user(self.env, "promote.me", "security_roles.group_role_viewer", password="long-enough-password")
        user.with_user(self.admin).write({"groups_id": [(4, self.groups["admin"].id)]})
        self.assertEqual(user.security_role, "admin")
