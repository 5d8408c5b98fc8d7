from odoo.tests import new_test_user
from odoo.tests.common import TransactionCase

OWNER_PASSWORD = "admin"  # base data's password of the initial admin user


def password_logins_for_admins(env):
    """These tests log Admins and the Owner in with a password, the way Odoo's
    test helpers do (non-interactive). auth_saml_all_tiers, when installed,
    requires two-factor login for those roles by default, which allows them
    API keys only over RPC: its own tests cover that; here it is relaxed."""
    ICP = env["ir.config_parameter"].sudo()
    for role in ("owner", "admin"):
        ICP.set_param(f"auth_saml_all_tiers.mfa_{role}", "optional")


def role_users(cls):
    """One user per role; the initial admin user is the Owner."""
    env = cls.env
    cls.groups = env["res.groups"]._security_role_groups()
    cls.owner = env.ref("base.user_admin")
    cls.admin = new_test_user(env, "role.admin", "security_roles.group_role_admin",
                              password="role-admin-password")
    cls.admin2 = new_test_user(env, "role.admin2", "security_roles.group_role_admin",
                               password="role-admin2-password")
    cls.editor = new_test_user(env, "role.editor",
                               "security_roles.group_role_editor,base.group_partner_manager",
                               password="role-editor-password")
    cls.viewer = new_test_user(env, "role.viewer", "security_roles.group_role_viewer",
                               password="role-viewer-password")


class RolesCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)

    def owners(self):
        return self.env["res.groups"]._security_owner_ids()


class RoleRpc:
    """XML-RPC calls as the Admin and the Owner of role_users() (HttpCase)."""

    def rpc(self, model, method, *args, **kw):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.admin.id,
                                             "role-admin-password", model, method, list(args), kw)

    def owner_rpc(self, model, method, *args, **kw):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.owner.id, OWNER_PASSWORD,
                                             model, method, list(args), kw)
