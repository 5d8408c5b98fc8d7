from odoo.exceptions import AccessDenied
from odoo.tests import tagged

from odoo.addons.security_roles.tests.common import RolesCase

from .saml_idp import make_keypair


@tagged("post_install", "-at_install")
class TestOwnerLoginMethods(RolesCase):
    """Another login method reaches the Owner only if the Owner set it up."""

    def provider(self, user):
        return self.env["auth.saml.provider"].with_user(user).create({
            "name": "IdP", "idp_entity_id": f"https://idp.example/{user.id}",
            "idp_sso_url": "https://idp.example/sso", "idp_certificates": make_keypair()[1]})

    def test_provider_set_up_by_a_granted_admin_does_not_log_in_the_owner(self):
        Users = self.env["res.users"]
        self.env.cr.execute("UPDATE security_technical_access SET revoked_at = now()"
                            " WHERE revoked_at IS NULL")
        self.env["security.technical.access"].with_user(self.owner).create({
            "user_id": self.admin.id, "reason": "SSO", "duration_hours": 1})
        provider = self.provider(self.admin)
        self.owner.with_user(self.owner).write({"saml_provider_id": provider.id,
                                                "saml_uid": "owner@idp"})
        with self.assertRaises(AccessDenied):
            Users._security_check_login_method(self.owner.id, "saml")
        # the same provider, once the Owner has taken it over, works
        provider.with_user(self.owner).write({"name": "IdP (checked by the Owner)"})
        provider.invalidate_recordset()
        self.env.cr.execute("UPDATE auth_saml_provider SET create_uid = %s WHERE id = %s",
                            (self.owner.id, provider.id))
        provider.invalidate_recordset()
        Users._security_check_login_method(self.owner.id, "saml")
        # other users are not concerned
        Users._security_check_login_method(self.admin.id, "saml")
