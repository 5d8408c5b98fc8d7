from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.base.models.res_users import name_selection_groups

from .common import OWNER_PASSWORD, RolesCase


@tagged("post_install", "-at_install")
class TestOwnerProtections(RolesCase):
    """Every path that would demote, archive, delete, re-password, re-login the
    Owner, or grant Owner, is refused for Admins and for the superuser."""

    def assertOwnerUnchanged(self):
        self.assertEqual(self.owners(), {self.owner.id})
        self.assertTrue(self.owner.active)

    def role_field(self):
        return name_selection_groups([self.groups[r].id for r in
                                      ("viewer", "editor", "admin", "owner")])

    def transfer(self, to_user):
        wizard = self.env["security.ownership.transfer"].with_user(self.owner).create(
            {"new_owner_id": to_user.id, "password": OWNER_PASSWORD})
        wizard.action_transfer()

    # --- demote -----------------------------------------------------------
    def test_admin_cannot_demote_owner(self):
        owner_group = self.groups["owner"]
        attempts = {
            "groups_id unlink": lambda: self.owner.with_user(self.admin).write(
                {"groups_id": [Command.unlink(owner_group.id)]}),
            "groups_id set": lambda: self.owner.with_user(self.admin).write(
                {"groups_id": [Command.set([self.groups["admin"].id])]}),
            "role selector": lambda: self.owner.with_user(self.admin).write(
                {self.role_field(): self.groups["editor"].id}),
            "group users": lambda: owner_group.with_user(self.admin).write(
                {"users": [Command.unlink(self.owner.id)]}),
            "group users set": lambda: owner_group.with_user(self.admin).write(
                {"users": [Command.set([self.admin.id])]}),
            "uninstall flag over RPC": lambda: owner_group.with_user(self.admin).with_context(
                _force_unlink=True).write({"users": [Command.unlink(self.owner.id)]}),
        }
        for path, attempt in attempts.items():
            with self.subTest(path=path), self.assertRaises(AccessError):
                attempt()
            self.assertOwnerUnchanged()

    def test_superuser_cannot_demote_owner(self):
        with self.assertRaises(AccessError):
            self.owner.sudo().write({"groups_id": [Command.unlink(self.groups["owner"].id)]})
        with self.assertRaises(AccessError):
            self.groups["owner"].sudo().write({"users": [Command.clear()]})
        self.assertOwnerUnchanged()

    def test_owner_cannot_demote_self(self):
        with self.assertRaises(AccessError):
            self.owner.with_user(self.owner).write({self.role_field(): self.groups["admin"].id})
        self.assertOwnerUnchanged()

    # --- grant ------------------------------------------------------------
    def test_nobody_grants_owner(self):
        owner_group = self.groups["owner"]
        attempts = {
            "self escalation": lambda: self.admin.with_user(self.admin).write(
                {"groups_id": [Command.link(owner_group.id)]}),
            "role selector": lambda: self.admin2.with_user(self.admin).write(
                {self.role_field(): owner_group.id}),
            "group users": lambda: owner_group.with_user(self.admin).write(
                {"users": [Command.link(self.admin.id)]}),
            "implied group": lambda: self.env.ref("base.group_user").with_user(self.admin).write(
                {"implied_ids": [Command.link(owner_group.id)]}),
            "new group implying owner": lambda: self.env["res.groups"].with_user(self.admin).create(
                {"name": "Sneaky", "implied_ids": [Command.link(owner_group.id)],
                 "users": [Command.link(self.admin.id)]}),
            "new user": lambda: self.env["res.users"].with_user(self.admin).create(
                {"name": "Second owner", "login": "owner2",
                 "groups_id": [Command.link(owner_group.id)]}),
            "copy of the owner": lambda: self.owner.with_user(self.admin).copy({"login": "owner3"}),
            "superuser": lambda: self.admin.sudo().write(
                {"groups_id": [Command.link(owner_group.id)]}),
            "default user template": lambda: self.env.ref("base.default_user").sudo().write(
                {"groups_id": [Command.link(owner_group.id)]}),
        }
        for path, attempt in attempts.items():
            with self.subTest(path=path), self.assertRaises(AccessError):
                attempt()
            self.assertOwnerUnchanged()

    def test_import_cannot_grant_owner(self):
        result = self.env["res.users"].with_user(self.admin).load(
            ["login", "name", "groups_id/id"],
            [["imported.owner", "Imported", "security_roles.group_role_owner"]])
        self.assertFalse(result["ids"])
        self.assertTrue(any("Owner" in m["message"] for m in result["messages"]), result)
        self.assertFalse(self.env["res.users"].search([("login", "=", "imported.owner")]))
        result = self.env["res.users"].with_user(self.admin).load(
            ["id", "groups_id/id"], [["base.user_admin", "security_roles.group_role_editor"]])
        self.assertFalse(result["ids"])
        self.assertOwnerUnchanged()

    # --- archive, delete ----------------------------------------------------
    def test_owner_cannot_be_archived(self):
        attempts = {
            "write": lambda: self.owner.with_user(self.admin).write({"active": False}),
            "action_archive": lambda: self.owner.with_user(self.admin).action_archive(),
            "access review": lambda: (self.owner | self.editor).with_user(self.admin)
            .action_security_archive(),
            "superuser": lambda: self.owner.sudo().action_archive(),
            "owner self": lambda: self.owner.with_user(self.owner).sudo().write({"active": False}),
        }
        for path, attempt in attempts.items():
            with self.subTest(path=path), self.assertRaises(AccessError):
                attempt()
            self.assertOwnerUnchanged()
        self.assertTrue(self.editor.active)

    def test_owner_cannot_be_deleted(self):
        # the initial admin user is undeletable in core anyway: hand over first
        self.transfer(self.admin)
        with self.assertRaises(AccessError):
            self.admin.with_user(self.owner).unlink()
        with self.assertRaises(AccessError):
            self.admin.sudo().unlink()
        self.assertEqual(self.owners(), {self.admin.id})

    def test_role_groups_cannot_be_deleted(self):
        for role, group in self.groups.items():
            with self.subTest(role=role), self.assertRaises(AccessError):
                group.sudo().unlink()

    # --- login, password ---------------------------------------------------------
    def test_only_owner_changes_owner_credentials(self):
        for vals in ({"login": "hijacked"}, {"password": "hijacked-password"},
                     {"new_password": "hijacked-password"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                self.owner.with_user(self.admin).write(vals)
            with self.subTest(vals=vals, sudo=True), self.assertRaises(AccessError):
                self.owner.with_user(self.admin).sudo().write(vals)
        wizard = self.env["change.password.wizard"].with_user(self.admin).with_context(
            active_model="res.users", active_ids=self.owner.ids).create({})
        wizard.user_ids.new_passwd = "hijacked-password"
        with self.assertRaises(AccessError):
            wizard.change_password_button()
        self.assertEqual(self.owner.login, "admin")
        self.owner.with_user(self.owner)._check_credentials(
            {"type": "password", "password": OWNER_PASSWORD}, {"interactive": True})

    def test_owner_changes_own_login_and_password(self):
        self.owner.with_user(self.owner).write({"login": "the.owner"})
        self.owner.with_user(self.owner)._change_password("a-new-owner-password")
        self.assertEqual(self.owner.login, "the.owner")
        self.owner.with_user(self.owner)._check_credentials(
            {"type": "password", "password": "a-new-owner-password"}, {"interactive": True})

    def test_admin_still_manages_other_admins(self):
        self.admin2.with_user(self.admin).write({"login": "renamed.admin2", "active": False})
        self.assertFalse(self.admin2.active)


@tagged("post_install", "-at_install")
class TestOwnershipTransfer(RolesCase):
    def _wizard(self, user, target, password):
        return self.env["security.ownership.transfer"].with_user(user).create(
            {"new_owner_id": target.id, "password": password})

    def test_transfer_to_active_admin(self):
        self._wizard(self.owner, self.admin, OWNER_PASSWORD).action_transfer()
        self.assertEqual(self.owners(), {self.admin.id})
        self.assertEqual(self.admin.security_role, "owner")
        self.assertEqual(self.owner.security_role, "admin")
        self.assertIn(self.env.ref("base.group_system"), self.owner.groups_id)

    def test_password_is_checked_and_never_stored(self):
        with self.assertRaises(UserError):
            self._wizard(self.owner, self.admin, "not-the-password")
        wizard = self._wizard(self.owner, self.admin, OWNER_PASSWORD)
        self.env.flush_all()
        self.env.cr.execute("SELECT * FROM security_ownership_transfer WHERE id = %s", [wizard.id])
        self.assertNotIn(OWNER_PASSWORD, [str(v) for v in self.env.cr.fetchone()])
        self.assertEqual(self.owners(), {self.owner.id})

    def test_password_check_cannot_be_forged(self):
        wizard = self.env["security.ownership.transfer"].with_user(self.owner).create(
            {"new_owner_id": self.admin.id, "identity_checked_at": "2099-01-01 00:00:00"})
        self.assertFalse(wizard.identity_checked_at)
        wizard.write({"identity_checked_at": "2099-01-01 00:00:00"})
        with self.assertRaises(UserError):
            wizard.action_transfer()
        self.assertEqual(self.owners(), {self.owner.id})

    def test_stale_password_check_refused(self):
        wizard = self._wizard(self.owner, self.admin, OWNER_PASSWORD)
        self.env.cr.execute("UPDATE security_ownership_transfer SET identity_checked_at ="
                            " now() at time zone 'utc' - interval '1 hour' WHERE id = %s",
                            [wizard.id])
        wizard.invalidate_recordset()
        with self.assertRaises(UserError):
            wizard.action_transfer()
        self.assertEqual(self.owners(), {self.owner.id})

    def test_only_owner_transfers(self):
        with self.assertRaises(AccessError):  # no access to the wizard at all
            self._wizard(self.admin, self.admin2, "role-admin-password")
        wizard = self.env["security.ownership.transfer"].with_user(self.admin).sudo().create(
            {"new_owner_id": self.admin2.id, "password": "role-admin-password"})
        with self.assertRaises(AccessError):
            wizard.with_user(self.admin).action_transfer()
        self.assertEqual(self.owners(), {self.owner.id})

    def test_only_to_an_active_admin(self):
        for target in (self.editor, self.viewer):
            with self.subTest(role=target.security_role), self.assertRaises(UserError):
                self._wizard(self.owner, target, OWNER_PASSWORD).action_transfer()
        self.admin2.action_archive()
        with self.assertRaises(UserError):
            self._wizard(self.owner, self.admin2, OWNER_PASSWORD).action_transfer()
        self.assertEqual(self.owners(), {self.owner.id})
