import xmlrpc.client

from odoo.tests import HttpCase, tagged

from odoo.addons.base.controllers.rpc import RPC_FAULT_CODE_ACCESS_ERROR

from .common import password_logins_for_admins, role_users


@tagged("post_install", "-at_install")
class TestOwnerProtectionsOverRpc(HttpCase):
    """An Admin authenticated over XML-RPC meets the same refusals."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)
        password_logins_for_admins(cls.env)

    def rpc(self, model, method, *args, **kw):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.admin.id,
                                             "role-admin-password", model, method, list(args), kw)

    def test_admin_rpc_cannot_touch_owner(self):
        owner_group = self.groups["owner"].id
        attempts = {
            "demote": ("res.users", "write", [self.owner.id],
                       {"groups_id": [(3, owner_group)]}),
            "self-grant": ("res.users", "write", [self.admin.id],
                           {"groups_id": [(4, owner_group)]}),
            "group users": ("res.groups", "write", [owner_group],
                            {"users": [(4, self.admin.id)]}),
            "implied": ("res.groups", "write", [self.env.ref("base.group_user").id],
                        {"implied_ids": [(4, owner_group)]}),
            "archive": ("res.users", "action_archive", [self.owner.id]),
            "password": ("res.users", "write", [self.owner.id], {"password": "rpc-hijack-pass"}),
            "login": ("res.users", "write", [self.owner.id], {"login": "rpc-hijack"}),
            "uninstall context": ("res.groups", "write", [owner_group],
                                  {"users": [(3, self.owner.id)]}),
        }
        for path, (model, method, *args) in attempts.items():
            kw = {"context": {"_force_unlink": True}} if path == "uninstall context" else {}
            with self.subTest(path=path), self.assertRaises(xmlrpc.client.Fault) as caught:
                self.rpc(model, method, *args, **kw)
            self.assertEqual(caught.exception.faultCode, RPC_FAULT_CODE_ACCESS_ERROR, path)
        self.owner.invalidate_recordset()
        self.assertEqual(self.env["res.groups"]._security_owner_ids(), {self.owner.id})
        self.assertTrue(self.owner.active)
        self.assertEqual(self.owner.login, "admin")

    def test_admin_rpc_import_cannot_grant_owner(self):
        result = self.rpc("res.users", "load", ["login", "name", "groups_id/id"],
                          [["rpc.owner", "RPC owner", "security_roles.group_role_owner"]])
        self.assertFalse(result["ids"])
        self.assertEqual(self.env["res.groups"]._security_owner_ids(), {self.owner.id})
