"""The SP entity id and URLs an IdP was given stay what they were at the
provider's creation: Odoo rewrites web.base.url from the Host header when a
Settings user logs in, and only the Owner moves the SP."""
import xmlrpc.client

from lxml import etree
from odoo.addons.security_roles.tests.common import (
    RoleRpc,
    password_logins_for_admins,
    role_users,
)
from odoo.tests import tagged

from ..models.auth_saml_provider import SP_URL_FIELDS
from .common import load_migration
from .test_saml import SamlCase

MD = "urn:oasis:names:tc:SAML:2.0:metadata"


@tagged("post_install", "-at_install")
class TestSpIdentity(RoleRpc, SamlCase):

    def sp_identity(self):
        self.provider.invalidate_recordset()
        return {name: self.provider[name] for name in SP_URL_FIELDS}

    def test_sp_identity_does_not_follow_web_base_url(self):
        before = self.sp_identity()
        self.assertEqual(before["sp_acs_url"],
                         f"{self.base_url()}/auth_saml/acs/{self.provider.id}")
        # what Odoo does when a Settings user logs in through another Host header
        self.env["ir.config_parameter"].sudo().set_param("web.base.url",
                                                         "https://attacker.example.com")
        self.assertEqual(self.sp_identity(), before)
        # the AuthnRequest the IdP receives names the SP it was given
        fields = self.idp_answer(self.start_login())
        request = self.idp.requests[-1].message
        self.assertEqual(request.issuer.text, before["sp_entity_id"])
        self.assertEqual(request.assertion_consumer_service_url, before["sp_acs_url"])
        self.assertEqual(self.post_acs(fields).status_code, 303)
        self.assertEqual(self.session_uid(), self.alice.id)
        # and so does the SP metadata
        root = etree.fromstring(self.url_open(f"/auth_saml/metadata/{self.provider.id}").content)
        self.assertEqual(root.get("entityID"), before["sp_entity_id"])
        self.assertEqual(root.find(f".//{{{MD}}}AssertionConsumerService").get("Location"),
                         before["sp_acs_url"])
        self.assertEqual(root.find(f".//{{{MD}}}SingleLogoutService").get("Location"),
                         before["sp_sls_url"])
        # a provider created now takes the current public URL, and keeps it in a copy
        other = self.provider.copy({"name": "Other IdP"})
        self.assertEqual(other.sp_acs_url,
                         f"https://attacker.example.com/auth_saml/acs/{other.id}")

    def test_only_the_owner_changes_the_sp_identity(self):
        role_users(self)
        password_logins_for_admins(self.env)
        before = self.sp_identity()
        for name in sorted(SP_URL_FIELDS):
            with self.subTest(field=name), self.assertRaises(xmlrpc.client.Fault):
                self.rpc("auth.saml.provider", "write", self.provider.ids,
                         {name: "https://attacker.example.com/auth_saml/acs/1"})
        self.assertEqual(self.sp_identity(), before)
        # the form shows them read-only to the Admin, editable to the Owner
        self.assertFalse(self.provider.with_user(self.admin).can_change_sp_urls)
        self.assertTrue(self.provider.with_user(self.owner).can_change_sp_urls)
        start = self.last_event_id()
        moved = {"sp_entity_id": "https://sso.example.com/sp",
                 "sp_acs_url": "https://sso.example.com/auth_saml/acs/1"}
        self.owner_rpc("auth.saml.provider", "write", self.provider.ids, moved)
        self.assertEqual(self.sp_identity(), dict(before, **moved))
        if "audit.event" in self.env:
            event = self.env["audit.event"].search([
                ("action", "=", "protection.weakened"), ("id", ">", start),
                ("model", "=", "auth.saml.provider")])
            self.assertEqual(len(event), 1)
            self.assertIn("sp_acs_url", event.details)
        # never emptied, nor anything but an absolute URL, even by the Owner
        for value in (False, "", "/auth_saml/acs/1", "javascript:alert(1)"):
            with self.subTest(value=value), self.assertRaises(xmlrpc.client.Fault):
                self.owner_rpc("auth.saml.provider", "write", self.provider.ids,
                               {"sp_sls_url": value})

    def last_event_id(self):
        if "audit.event" not in self.env:
            return 0
        self.env["audit.event"]._flush_buffer()
        self.env.cr.execute("SELECT coalesce(max(id), 0) FROM audit_event")
        return self.env.cr.fetchone()[0]

    def test_upgrade_stores_the_sp_urls_existing_providers_had(self):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE auth_saml_provider SET sp_entity_id = NULL, sp_acs_url = NULL,"
            " sp_sls_url = NULL, sp_metadata_url = NULL WHERE id = %s", [self.provider.id])
        self.provider.invalidate_recordset()
        load_migration("18.0.1.2.0").migrate(self.env.cr, "18.0.1.1.0")
        base = f"{self.base_url()}/auth_saml"
        self.assertEqual(self.sp_identity(), {
            "sp_entity_id": f"{base}/metadata/{self.provider.id}",
            "sp_metadata_url": f"{base}/metadata/{self.provider.id}",
            "sp_acs_url": f"{base}/acs/{self.provider.id}",
            "sp_sls_url": f"{base}/sls/{self.provider.id}"})
        self.assertEqual(self.sp_login().status_code, 303)
