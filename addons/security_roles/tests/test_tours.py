from odoo.tests import HttpCase, new_test_user, tagged

from .common import OWNER_PASSWORD, password_logins_for_admins


@tagged("post_install", "-at_install")
class TestTours(HttpCase):
    """What a person clicks, in Chromium."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        password_logins_for_admins(cls.env)

    def test_owner_transfers_ownership_in_the_browser(self):
        owner = self.env.ref("base.user_admin")
        target = new_test_user(self.env, "tour.admin", "security_roles.group_role_admin",
                               name="Tour Admin", password="long-enough-password")
        self.assertEqual(OWNER_PASSWORD, "admin")  # the password the tour types
        # the test harness hashes with 1 round: re-hash the install-time hash now,
        # or the wizard's check does it and rotates the session token mid-tour
        owner.with_user(owner)._check_credentials(
            {"type": "password", "password": OWNER_PASSWORD}, {"interactive": True})
        self.start_tour("/odoo/action-security_roles.action_security_ownership_transfer",
                        "security_roles_transfer_ownership", login="admin")
        self.assertEqual(self.env["res.groups"]._security_owner_ids(), {target.id})
        self.assertEqual(owner.security_role, "admin")

    def test_admin_sets_a_role_with_the_selector(self):
        new_test_user(self.env, "tour.admin", "security_roles.group_role_admin",
                      password="tour-admin-password")
        user = new_test_user(self.env, "tour.editor", "security_roles.group_role_editor", password="long-enough-password")
        self.start_tour(f"/odoo/action-base.action_res_users/{user.id}",
                        "security_roles_set_role", login="tour.admin")
        self.assertEqual(user.security_role, "viewer")

    def test_owner_grants_technical_access_in_the_browser(self):
        admin = new_test_user(self.env, "tour.admin", "security_roles.group_role_admin",
                              name="Tour Admin", password="tour-admin-password")
        self.start_tour("/odoo/action-security_roles.action_security_technical_access",
                        "security_roles_grant_technical_access", login="admin")
        grant = self.env["security.technical.access"].search([("user_id", "=", admin.id)])
        self.assertEqual(grant.state, "running")
        self.assertEqual(grant.duration_hours, 2.0)
        self.assertEqual(grant.reason, "Install the Sales app")
        self.assertEqual(grant.create_uid, self.env.ref("base.user_admin"))
        # the Admin's web client says it on every screen
        self.start_tour("/odoo", "security_roles_technical_access_banner", login="tour.admin")
