from odoo.tests import tagged

from ..roles import VIEWER_PERSONAL_MODELS
from .common import RolesCase


@tagged("post_install", "-at_install")
class TestPermissionMatrix(RolesCase):
    def cell(self, model, role):
        Matrix = self.env["security.permission.matrix"].with_user(self.admin)
        Matrix.invalidate_model()  # a view: the ORM cannot know its rows changed
        row = Matrix.search([("model", "=", model), ("role", "=", role)])
        self.assertEqual(len(row), 1)
        return row.read(["perm_read", "perm_write", "perm_create", "perm_unlink", "rule_count"])[0]

    def test_every_role_on_every_model(self):
        Matrix = self.env["security.permission.matrix"]
        models = set(Matrix.search([]).mapped("model"))
        self.assertIn("res.partner", models)
        for role in ("owner", "admin", "editor", "viewer"):
            self.assertEqual(Matrix.search_count([("role", "=", role)]), len(models))

    def test_matrix_matches_live_acls(self):
        # Settings (Admin) may write on countries, a plain internal user may only read them
        self.assertEqual(self.cell("res.country", "admin")["perm_write"], "all")
        self.assertEqual(self.cell("res.country", "editor")["perm_write"], "none")
        self.assertEqual(self.cell("res.country", "editor")["perm_read"], "all")
        self.assertEqual(self.cell("res.partner", "editor")["perm_read"], "restricted")

    def test_viewer_column_is_read_only(self):
        writable = self.env["security.permission.matrix"].search(
            [("role", "=", "viewer"), "|", "|", ("perm_write", "!=", "none"),
             ("perm_create", "!=", "none"), ("perm_unlink", "!=", "none")])
        self.assertLessEqual(set(writable.mapped("model")), VIEWER_PERSONAL_MODELS)

    def test_matrix_follows_acl_and_rule_changes(self):
        self.assertEqual(self.cell("res.country", "editor")["perm_write"], "none")
        acl = self.env["ir.model.access"].create({
            "name": "editors write countries",
            "model_id": self.env["ir.model"]._get_id("res.country"),
            "group_id": self.groups["editor"].id,
            "perm_read": True, "perm_write": True})
        self.assertEqual(self.cell("res.country", "editor")["perm_write"], "all")
        self.assertEqual(self.cell("res.country", "owner")["perm_write"], "all")
        self.assertEqual(self.cell("res.country", "viewer")["perm_write"], "none")
        rule = self.env["ir.rule"].create({
            "name": "editors: only European countries",
            "model_id": self.env["ir.model"]._get_id("res.country"),
            "groups": [(4, self.groups["editor"].id)],
            "domain_force": "[('code', 'in', ['BE', 'FR'])]"})
        cell = self.cell("res.country", "editor")
        self.assertEqual(cell["perm_write"], "restricted")
        self.assertEqual(cell["rule_count"], 1)
        rule.unlink()
        acl.unlink()
        self.assertEqual(self.cell("res.country", "editor")["perm_write"], "none")
