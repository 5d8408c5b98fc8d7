"""E-mail domains: one stored form, one provider each (concurrent saves
included), and just-in-time creation only within the provider's own."""
import secrets

import psycopg2
from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, ValidationError
from odoo.service.model import _as_validation_error
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..lib import saml
from .common import load_migration
from .saml_idp import make_keypair
from .test_saml import SamlCase


def provider_values(name, **values):
    return dict({"name": name, "idp_entity_id": f"https://{name}.example.net/idp",
                 "idp_sso_url": "https://idp.example.net/sso",
                 "idp_certificates": make_keypair()[1]}, **values)


@tagged("post_install", "-at_install")
class TestSamlDomains(SamlCase):

    def domains_of(self, provider):
        provider.invalidate_recordset()
        return provider.email_domains, sorted(provider.domain_ids.mapped("name"))

    def test_domains_are_stored_in_one_form(self):
        self.provider.email_domains = (" SSO.Example.com. ,@Other.Example.org; sso.example.com"
                                       "  Bücher.example")
        self.assertEqual(self.domains_of(self.provider), (
            "sso.example.com, other.example.org, xn--bcher-kva.example",
            ["other.example.org", "sso.example.com", "xn--bcher-kva.example"]))
        for bad in ("exa_mple.com", "*.example.com", "example", "10.0.0.1", "a..b.com",
                    "ｅxample.com", "someone@example.com", "xn--zz.example"):
            with self.subTest(domain=bad), self.assertRaisesRegex(ValidationError,
                                                                  "Not an e-mail domain"):
                self.provider.write({"email_domains": f"sso.example.com, {bad}"})
        self.provider.email_domains = " , "
        self.assertEqual(self.domains_of(self.provider), (False, []))

    def test_an_email_domain_belongs_to_one_provider(self):
        Provider = self.env["auth.saml.provider"]
        with self.assertRaisesRegex(ValidationError, "sso.example.com already belongs to the "
                                                     "provider Test IdP"):
            Provider.create(provider_values("second", email_domains="SSO.example.com."))
        second = Provider.create(provider_values("second", email_domains="second.example.com"))
        with self.assertRaisesRegex(ValidationError, "already belongs"):
            second.write({"email_domains": "second.example.com, sso.example.com"})
        self.assertEqual(self.domains_of(second), ("second.example.com",
                                                   ["second.example.com"]))
        # a copy claims no domain
        self.assertFalse(self.provider.copy({"name": "copy"}).email_domains)
        # an archived provider keeps its domains (unarchived, it serves them again) ...
        self.provider.active = False
        with self.assertRaisesRegex(ValidationError, r"Test IdP \(archived\)"):
            second.write({"email_domains": "sso.example.com"})
        # ... and the login page sends nobody to it
        self.assertFalse(Provider._discover("someone@sso.example.com"))
        # given up there, the domain can go to another provider
        self.provider.email_domains = False
        second.write({"email_domains": "sso.example.com, second.example.com"})
        self.assertEqual(Provider._discover(" someone@SSO.Example.com. "), second)
        # a subdomain or a look-alike is no one's, unless given as such
        for login in ("x@sub.sso.example.com", "x@evil-sso.example.com", "x@xsso.example.com",
                      "x@sso.example.com.evil.net", "x@ѕso.example.com"):
            with self.subTest(login=login):
                self.assertFalse(Provider._discover(login))
        third = Provider.create(provider_values("third", email_domains="sub.sso.example.com"))
        self.assertEqual(Provider._discover("x@sub.sso.example.com"), third)
        # the domain index is written by saving a provider only
        admin = new_test_user(self.env, "saml.domains.admin", "security_roles.group_role_admin",
                              password="saml-domains-admin-password")
        with self.assertRaises(AccessError):
            self.env["auth.saml.provider.domain"].with_user(admin).create(
                {"name": "elsewhere.example.com", "provider_id": second.id})
        with self.assertRaises(AccessError):
            second.domain_ids.with_user(admin).write({"provider_id": third.id})

    def test_jit_creates_users_of_the_provider_domains_only(self):
        self.provider.write({"jit_create": True, "email_attribute": "mail",
                             "email_domains": "sso.example.com, example.org"})
        provider = self.provider.sudo()
        outside = [
            ("m@evil.example.net", None), ("m@evil-example.org", None),
            ("m@example.org.evil.net", None), ("m@sub.example.org", None),
            ("m@example.org.", None), ("m@EXAMPLE.ORG.", None),
            ("m@evil.example.net@example.org", None), ("m@example.org@evil.example.net", None),
            ("m@еxample.org", None),  # Cyrillic е
            ("m@ｅxample.org", None),  # fullwidth ｅ
            ("m@example.org\u200b", None), ("m\u202e@example.org", None),
            ("m @example.org", None), ('"m@evil"@example.org', None),
            ("mallory", None), ("mallory", "m@example.org"),
            ("m@example.org", "m@evil.example.net"), ("m@example.org", "m@example.org."),
        ]
        for i, (login, mail) in enumerate(outside):
            attributes = {"login": [login], **({"mail": [mail]} if mail else {})}
            with self.subTest(login=login, mail=mail), \
                    self.assertRaises(saml.SamlError) as caught:
                provider._user_for_assertion(f"outside-{i}", attributes)
            self.assertEqual(caught.exception.reason, "jit_outside_domains")
        self.assertFalse(self.env["res.users"].with_context(active_test=False).search(
            [("saml_uid", "like", "outside-")]))
        # within the domains, whatever the case
        nina = provider._user_for_assertion("nina", {"login": ["Nina@Example.ORG"]})
        self.assertEqual((nina.login, nina.saml_uid), ("Nina@Example.ORG", "nina"))
        oscar = provider._user_for_assertion("oscar", {"login": ["oscar@sso.example.com"],
                                                       "mail": ["Oscar@SSO.example.com"]})
        self.assertEqual(oscar.email, "Oscar@SSO.example.com")
        # through the login page: refused, audited, nobody created
        self.idp.user = {"name_id": "mallory", "attributes": {"login": ["m@evil.example.net"]}}
        self.assertRefused(self.sp_login(), "jit_outside_domains")
        self.assertFalse(self.env["res.users"].search([("login", "=", "m@evil.example.net")]))

    def test_jit_needs_domains(self):
        with self.assertRaises(ValidationError) as caught:
            self.provider.write({"jit_create": True, "email_domains": False})
        self.assertIn("give it the e-mail domains", str(caught.exception))
        self.provider.jit_create = True
        with self.assertRaises(ValidationError) as caught:
            self.provider.email_domains = " "
        self.assertIn("give it the e-mail domains", str(caught.exception))
        # one saved before domains were required creates nobody, and says why
        self.env.flush_all()
        self.env.cr.execute("UPDATE auth_saml_provider SET email_domains = NULL WHERE id = %s",
                            [self.provider.id])
        self.env.cr.execute("DELETE FROM auth_saml_provider_domain WHERE provider_id = %s",
                            [self.provider.id])
        self.env.invalidate_all()
        self.idp.user = {"name_id": "bob", "attributes": {"login": ["bob@sso.example.com"]}}
        response = self.sp_login()
        self.assertRefused(response, "jit_no_domain")
        self.assertIn("has no e-mail domain", response.text)
        self.assertFalse(self.env["res.users"].search([("login", "=", "bob@sso.example.com")]))

    def test_upgrade_gives_each_domain_to_one_provider(self):
        Provider = self.env["auth.saml.provider"]
        second = Provider.create(provider_values("second", sequence=5))
        archived = Provider.create(provider_values("archived", sequence=1, active=False))
        self.env.flush_all()
        # as 18.0.1.1.0 left them: free text, one domain claimed three times
        for provider, text in ((self.provider, " SSO.example.com., not a domain!, a.example.com"),
                               (second, "sso.example.com,b.example.com"),
                               (archived, "sso.example.com, c.example.com")):
            self.env.cr.execute("UPDATE auth_saml_provider SET email_domains = %s WHERE id = %s",
                                [text, provider.id])
        self.env.cr.execute("DELETE FROM auth_saml_provider_domain")
        self.env.invalidate_all()
        with self.assertLogs("auth_saml_migration_18.0.1.2.0", "WARNING") as logs:
            load_migration("18.0.1.2.0").migrate(self.env.cr, "18.0.1.1.0")
        # it stays with the provider the login page sent it to: active, then by sequence
        self.assertEqual(self.domains_of(second), ("sso.example.com, b.example.com",
                                                   ["b.example.com", "sso.example.com"]))
        self.assertEqual(self.domains_of(self.provider), ("a.example.com", ["a.example.com"]))
        self.assertEqual(self.domains_of(archived), ("c.example.com", ["c.example.com"]))
        self.assertTrue(any("stays with provider" in line for line in logs.output))
        self.assertTrue(any("is no e-mail domain" in line for line in logs.output))


@tagged("post_install", "-at_install")
class TestSamlDomainRace(TransactionCase):
    """Two transactions claiming one domain at once: the unique index holds
    where the check in Python, which cannot see the other's work, does not."""

    def test_concurrent_saves_give_a_domain_to_one_provider(self):
        domain = f"race-{secrets.token_hex(4)}.example.com"
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            # B's snapshot is taken now: A's provider stays invisible to it
            env_b["auth.saml.provider.domain"].search_count([])
            first = env_a["auth.saml.provider"].create(provider_values(
                "race-a", email_domains=domain))
            cr_a.commit()
            self.addCleanup(self.drop_provider, first.id)
            with self.assertRaises(psycopg2.errors.UniqueViolation) as caught, \
                    mute_logger("odoo.sql_db"):
                env_b["auth.saml.provider"].create(provider_values(
                    "race-b", email_domains=domain))
                env_b.flush_all()
            cr_b.rollback()
            # what the loser is told (Odoo turns the violation into this for RPC and HTTP)
            self.assertIn("belongs to one SAML provider",
                          str(_as_validation_error(env_b, caught.exception)))
        with self.registry.cursor() as cr:
            cr.execute("SELECT p.name FROM auth_saml_provider_domain d"
                       " JOIN auth_saml_provider p ON p.id = d.provider_id WHERE d.name = %s",
                       [domain])
            self.assertEqual(cr.fetchall(), [("race-a",)])

    def drop_provider(self, provider_id):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["auth.saml.provider"].browse(
                provider_id).unlink()
