import copy
import datetime
import html
import re
import urllib.parse
from unittest.mock import patch

from lxml import etree
from odoo.exceptions import AccessDenied, AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import config

from ..lib import saml
from .common import LoginCase
from .saml_idp import ACS, NS, TestIdP, make_keypair

FORM_FIELD_RE = re.compile(r'name="(\w+)" value="([^"]*)"')


@tagged("post_install", "-at_install")
class SamlCase(LoginCase):
    """A provider of this database facing a real pysaml2 IdP on 127.0.0.1."""

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.provider = self.env["auth.saml.provider"].create({
            "name": "Test IdP", "idp_entity_id": "placeholder",
            "idp_sso_url": "http://127.0.0.1:9/sso",
            "idp_certificates": make_keypair()[1],  # replaced by the metadata below
            "login_attribute": "login", "name_attribute": "display_name",
            "group_attribute": "groups", "email_domains": "sso.example.com",
        })
        self.provider.action_generate_sp_key()
        self.idp = TestIdP(self.provider._sp_metadata().decode())
        self.idp.__enter__()
        self.addCleanup(self.idp.__exit__, None, None, None)
        self.provider.idp_metadata = self.idp.metadata()
        self.alice = new_test_user(self.env, "alice@sso.example.com", "base.group_user",
                                   password="alice-local-password", name="Alice")
        self.alice.write({"saml_provider_id": self.provider.id, "saml_uid": "alice"})
        self.idp.user = {"name_id": "alice", "attributes": {
            "login": ["alice@sso.example.com"], "display_name": ["Alice"]}}

    # -- helpers ----------------------------------------------------------
    def start_login(self):
        """SP-initiated: our redirect to the IdP. Returns the IdP URL."""
        response = self.url_open(f"/auth_saml/login/{self.provider.id}?redirect=/odoo/contacts",
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        return response.headers["Location"]

    def idp_answer(self, idp_url):
        """What the IdP's auto-posting page posts to the ACS."""
        response = self.opener.get(idp_url, timeout=30)
        self.assertEqual(response.status_code, 200, response.text)
        return {k: html.unescape(v) for k, v in FORM_FIELD_RE.findall(response.text)}

    def post_acs(self, fields):
        return self.url_open(self.provider.sp_acs_url, data=fields, allow_redirects=False)

    def sp_login(self):
        return self.post_acs(self.idp_answer(self.start_login()))

    def assertRefused(self, response, reason):
        self.assertEqual(response.status_code, 403, response.text[:500])
        self.assertIn("Sign-in refused", response.text)
        self.assertNotIn("Traceback", response.text)
        self.assertFalse(self.session_uid(), "a refused response opened a session")
        if "audit.event" in self.env:
            event = self.env["audit.event"].sudo().search(
                [("action", "=", "saml.login")], order="id desc", limit=1)
            self.assertEqual(event.outcome, "failure")
            self.assertIn(reason, event.details)

    def forged(self, **kwargs):
        kwargs.setdefault("in_response_to", None)
        return {"SAMLResponse": self.idp.encode(self.idp.forge(
            self.provider.sp_entity_id, self.provider.sp_acs_url, **kwargs))}


class TestSamlProvider(SamlCase):

    def test_metadata_upload_fills_the_idp_fields(self):
        self.assertEqual(self.provider.idp_entity_id, self.idp.entity_id)
        self.assertEqual(self.provider.idp_sso_url, f"{self.idp.base}/idp/sso")
        self.assertEqual(self.provider.idp_slo_url, f"{self.idp.base}/idp/slo")
        self.assertEqual(saml.split_certificates(self.provider.idp_certificates),
                         saml.split_certificates(self.idp.cert_pem))
        with self.assertRaisesRegex(UserError, "metadata was refused"):
            self.provider.idp_metadata = "<not-metadata/>"
        with self.assertRaisesRegex(UserError, "metadata was refused"):
            self.provider.idp_metadata = "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>" \
                                         "<x>&e;</x>"

    def test_metadata_from_url_and_rollover_certificates(self):
        # the IdP serves http on 127.0.0.1: what odoo.conf allows for tests only
        with patch.dict(config.options, {"auth_saml_allow_http_loopback_metadata": "True"}):
            self.provider.write({"idp_entity_id": "old", "idp_metadata_url":
                                 f"{self.idp.base}/idp/metadata"})
            self.provider.action_refresh_metadata()
            self.assertEqual(self.provider.idp_entity_id, self.idp.entity_id)
            self.assertTrue(self.provider.idp_metadata_refreshed)
            self.provider.idp_metadata_url = f"{self.idp.base}/idp/nothing-here"
            with self.assertRaisesRegex(UserError, "could not be fetched"):
                self.provider.action_refresh_metadata()
            with self.assertRaises(ValidationError) as caught:
                self.provider.idp_metadata_url = "http://192.0.2.1/metadata"
            self.assertIn("must use https", str(caught.exception))
        # rollover: a new IdP certificate next to the old one, both accepted
        self.provider.idp_certificates = make_keypair("next")[1] + "\n\n" + self.idp.cert_pem
        self.assertEqual(self.sp_login().status_code, 303)
        self.assertEqual(self.session_uid(), self.alice.id)

    def test_sp_metadata_and_private_key(self):
        response = self.url_open(f"/auth_saml/metadata/{self.provider.id}")
        self.assertEqual(response.status_code, 200)
        root = etree.fromstring(response.content)
        self.assertEqual(root.get("entityID"), self.provider.sp_entity_id)
        self.assertIn(self.provider.sp_acs_url, response.text)
        self.assertIn('AuthnRequestsSigned="true"', response.text)
        self.assertNotIn("PRIVATE KEY", response.text)
        admin = new_test_user(self.env, "saml.admin", "security_roles.group_role_admin",
                              password="saml-admin-password")
        provider = self.provider.with_user(admin)
        with self.assertRaises(AccessError):
            provider.read(["sp_private_key"])
        values = provider.web_read({"sp_private_key_input": {}, "sp_key_set": {}})[0]
        self.assertFalse(values["sp_private_key_input"])
        self.assertTrue(values["sp_key_set"])
        self.assertNotIn("sp_private_key", provider.fields_get(attributes=["type"]))
        editor = new_test_user(self.env, "saml.editor", "security_roles.group_role_editor",
                               password="saml-editor-password")
        with self.assertRaises(AccessError):
            self.provider.with_user(editor).read(["name"])


class TestSamlLogin(SamlCase):

    def test_sp_initiated_login(self):
        idp_url = self.start_login()
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(idp_url).query))
        self.assertEqual(query["SigAlg"], saml.C.RSA_SHA256)  # a signed AuthnRequest
        self.assertTrue(query["Signature"])
        response = self.post_acs(self.idp_answer(idp_url))
        self.assertEqual(response.status_code, 303, response.text[:300])
        self.assertTrue(response.headers["Location"].endswith("/odoo/contacts"))
        self.assertEqual(self.session_uid(), self.alice.id)
        request = self.idp.requests[-1].message
        self.assertEqual(request.issuer.text, self.provider.sp_entity_id)
        if "audit.event" in self.env:
            event = self.env["audit.event"].sudo().search(
                [("action", "=", "login"), ("uid", "=", self.alice.id)], limit=1)
            self.assertEqual(event.outcome, "success")
            self.assertIn("saml", event.details)

    def test_encrypted_assertions(self):
        self.provider.want_encrypted = True
        # a signed but readable assertion is refused when encryption is required
        self.assertRefused(self.sp_login(), "not encrypted")
        self.opener.cookies.clear()
        self.idp.encrypt_cert = self.provider.sp_certificate
        fields = self.idp_answer(self.start_login())
        self.assertIn(b"EncryptedAssertion", self.idp.decode(fields["SAMLResponse"]))
        self.assertEqual(self.post_acs(fields).status_code, 303)
        self.assertEqual(self.session_uid(), self.alice.id)

    def test_idp_initiated_login_is_opt_in(self):
        _url, fields = self.idp.idp_initiated(self.provider.sp_entity_id, self.provider.sp_acs_url)
        self.assertRefused(self.post_acs(fields), "idp_initiated_disabled")
        self.provider.allow_idp_initiated = True
        _url, fields = self.idp.idp_initiated(self.provider.sp_entity_id, self.provider.sp_acs_url,
                                             relay_state="https://evil.example.com/")
        response = self.post_acs(fields)
        self.assertEqual(response.status_code, 303)
        # RelayState is never an open redirect
        self.assertEqual(urllib.parse.urlsplit(response.headers["Location"]).path, "/odoo")
        self.assertNotIn("evil", response.headers["Location"])
        self.assertEqual(self.session_uid(), self.alice.id)

    def test_jit_creation_and_group_role_mapping(self):
        self.idp.user = {"name_id": "bob-42", "attributes": {
            "login": ["bob@sso.example.com"], "display_name": ["Bob Builder"],
            "groups": ["staff", "it-admins"]}}
        self.assertRefused(self.sp_login(), "unknown_user")
        self.provider.write({"jit_create": True, "jit_role": "viewer", "group_map_ids": [
            (0, 0, {"idp_group": "it-admins", "role": "admin"}),
            (0, 0, {"idp_group": "staff", "role": "editor"})]})
        response = self.sp_login()
        bob = self.env["res.users"].search([("login", "=", "bob@sso.example.com")])
        self.assertEqual(bob.name, "Bob Builder")
        self.assertEqual((bob.saml_provider_id, bob.saml_uid), (self.provider, "bob-42"))
        self.assertEqual(bob.security_role, "admin")
        # an Admin must use two-factor login: SSO does not skip the enrolment
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login/totp/enroll", response.headers["Location"])
        self.assertFalse(self.session_uid())
        # the IdP takes the admin group away: the next login demotes
        self.opener.cookies.clear()
        self.idp.user["attributes"]["groups"] = ["staff"]
        self.assertEqual(self.sp_login().status_code, 303)
        bob.invalidate_recordset()
        self.assertEqual(bob.security_role, "editor")
        self.assertEqual(self.session_uid(), bob.id)
        self.assertFalse(bob.has_group("base.group_system"))
        # no mapped group left: the provider's default role
        self.url_open("/web/session/logout", allow_redirects=False)
        self.provider.jit_role = "viewer"
        self.idp.user = {"name_id": "bob-42", "attributes": {
            "login": ["bob@sso.example.com"], "groups": ["unmapped"]}}
        self.assertEqual(self.sp_login().status_code, 303)
        bob.invalidate_recordset()
        self.assertEqual(bob.security_role, "viewer")
        # no mapped group: the default role for a new user
        self.url_open("/web/session/logout", allow_redirects=False)
        self.idp.user = {"name_id": "carol", "attributes": {"login": ["carol@sso.example.com"]}}
        self.assertEqual(self.sp_login().status_code, 303)
        carol = self.env["res.users"].search([("login", "=", "carol@sso.example.com")])
        self.assertEqual(carol.security_role, "viewer")

    def test_two_factor_after_sso_unless_the_provider_is_trusted(self):
        self.alice._saml_set_role("admin")
        self.assertTrue(self.alice.mfa_required)
        response = self.sp_login()
        self.assertIn("/web/login/totp/enroll", response.headers["Location"])
        self.assertFalse(self.session_uid())
        self.opener.cookies.clear()
        self.provider.trusted_mfa = True  # the IdP enforces its own second factor
        response = self.sp_login()
        self.assertEqual(urllib.parse.urlsplit(response.headers["Location"]).path,
                         "/odoo/contacts")
        self.assertEqual(self.session_uid(), self.alice.id)

    def test_the_owner_is_protected_from_admins(self):
        owner = self.env.ref("base.user_admin")
        admin = new_test_user(self.env, "saml.admin2", "security_roles.group_role_admin",
                              password="saml-admin2-password")
        with self.assertRaisesRegex(AccessError, "Only the Owner can link"):
            owner.with_user(admin).write({"saml_provider_id": self.provider.id,
                                          "saml_uid": "mallory"})
        owner.write({"saml_provider_id": self.provider.id, "saml_uid": "owner"})  # as superuser
        with self.assertRaisesRegex(AccessError, "provider the Owner logs in with"):
            self.provider.with_user(admin).write({"idp_certificates": make_keypair()[1]})
        with self.assertRaisesRegex(AccessError, "provider the Owner logs in with"):
            self.provider.with_user(admin).action_generate_sp_key()
        # a provider trusted for 2FA does not skip the Owner's second factor
        self.provider.trusted_mfa = True
        self.idp.user = {"name_id": "owner", "attributes": {}}
        response = self.sp_login()
        self.assertTrue(urllib.parse.urlsplit(response.headers["Location"]).path.startswith(
            "/web/login/totp"))
        self.assertFalse(self.session_uid())

    def test_rpc_callers_without_rights_change_nothing(self):
        editor = new_test_user(self.env, "saml.editor2", "security_roles.group_role_editor",
                               password="saml-editor2-password")
        with self.assertRaises(AccessError):
            self.provider.with_user(editor).action_generate_sp_key()
        self.env["auth.throttle"].sudo()._record_failure([("login", "someone")])
        with self.assertRaises(AccessError):
            self.env["auth.throttle"].sudo().search([]).with_user(editor).action_unlock()
        self.assertTrue(self.env["auth.throttle"].sudo().search([("key", "=", "someone")]))

    def test_sso_only_api_keys_and_throttle(self):
        self.provider.sso_only = True
        self.env.flush_all()  # the logins below run on their own cursor
        Users = self.env.registry["res.users"]
        db = self.env.cr.dbname
        for password in ("alice-local-password", "a-wrong-password"):  # no oracle
            try:
                Users.authenticate(db, {"type": "password", "login": self.alice.login,
                                        "password": password}, {"interactive": True})
            except AccessDenied as refused:
                self.assertIn("signs in with Test IdP", str(refused))
            else:
                self.fail("an SSO-only account logged in with a password")
        key = self.env["res.users.apikeys"].with_user(self.alice)._generate(
            None, "integration", datetime.datetime.now() + datetime.timedelta(days=1))
        self.env.flush_all()
        self.assertEqual(Users.authenticate(db, {"type": "password", "login": self.alice.login,
                                                 "password": key}, {"interactive": False})
                         ["uid"], self.alice.id)
        # failed passwords (anyone can cause them) do not lock SSO out
        pair = ("login_source", f"{self.alice.login} from server")  # no request: server code
        for _i in range(12):
            self.env["auth.throttle"].sudo()._record_failure([pair])
        with self.assertRaisesRegex(AccessDenied, "Too many failed logins"):
            Users.authenticate(db, {"type": "password", "login": self.alice.login,
                                    "password": "guess"}, {"interactive": True})
        self.env.cr.execute("SELECT locked_until IS NOT NULL FROM auth_throttle"
                            " WHERE kind = %s AND key = %s", pair)
        self.assertTrue(self.env.cr.fetchone()[0])
        self.assertEqual(self.sp_login().status_code, 303)
        self.assertEqual(self.session_uid(), self.alice.id)

    def test_an_assertion_never_takes_over_another_account(self):
        self.provider.jit_create = True
        # an unlinked account whose login the IdP asserts is not taken over
        victim = new_test_user(self.env, "victim@sso.example.com", "base.group_user",
                               password="victim-local-password")
        self.idp.user = {"name_id": "mallory", "attributes": {"login": [victim.login]}}
        self.assertRefused(self.sp_login(), "login_taken")
        self.assertFalse(victim.saml_uid)
        # NameID decides, not the login attribute: alice's NameID with the
        # victim's login still logs in alice only
        self.idp.user = {"name_id": "alice", "attributes": {"login": [victim.login]}}
        self.assertEqual(self.sp_login().status_code, 303)
        self.assertEqual(self.session_uid(), self.alice.id)

    def test_sso_only_refuses_the_password(self):
        credential = {"type": "password", "login": self.alice.login,
                      "password": "alice-local-password"}
        env = {"interactive": True}
        self.assertTrue(self.env.registry["res.users"].authenticate(
            self.env.cr.dbname, credential, env))
        self.provider.sso_only = True
        response = self.url_open("/web/login", data={
            "login": self.alice.login, "password": "alice-local-password",
            "csrf_token": self.csrf()})
        self.assertIn("This account signs in with Test IdP", response.text)
        self.assertFalse(self.session_uid())
        self.assertEqual(self.sp_login().status_code, 303)
        self.assertEqual(self.session_uid(), self.alice.id)

    def test_login_page_buttons_and_domain_discovery(self):
        page = self.url_open("/web/login").text
        self.assertIn(f"/auth_saml/login/{self.provider.id}", page)
        self.assertIn("Log in with Test IdP", page)
        response = self.url_open("/web/login", data={
            "login": "someone@SSO.example.com", "saml_discover": "1",
            "csrf_token": self.csrf()}, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn(f"/auth_saml/login/{self.provider.id}", response.headers["Location"])
        response = self.url_open("/web/login", data={
            "login": "someone@elsewhere.example.org", "saml_discover": "1",
            "csrf_token": self.csrf()})
        self.assertIn("No single sign-on is set up for this e-mail domain", response.text)
        # discovery is not a password attempt
        self.assertFalse(self.env["auth.throttle"].sudo().search(
            [("key", "=", "someone@elsewhere.example.org")]))

    def test_single_logout_both_ways(self):
        self.assertEqual(self.sp_login().status_code, 303)
        # SP-initiated: our logout goes to the IdP, which answers our SLS
        response = self.url_open("/web/session/logout", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].startswith(f"{self.idp.base}/idp/slo"))
        self.assertFalse(self.session_uid())
        at_idp = self.opener.get(response.headers["Location"], allow_redirects=False, timeout=30)
        self.assertEqual(at_idp.status_code, 303, at_idp.text)
        self.assertEqual(self.idp.logouts[-1].name_id.text, "alice")
        back = self.url_open(at_idp.headers["Location"], allow_redirects=False)
        self.assertEqual(back.status_code, 303, back.text[:300])
        self.assertFalse(self.session_uid())
        # IdP-initiated: a LogoutRequest from the IdP ends the session here
        self.assertEqual(self.sp_login().status_code, 303)
        self.assertEqual(self.session_uid(), self.alice.id)
        request_id, info = self.idp.server.create_logout_request(
            self.provider.sp_sls_url, self.provider.sp_entity_id,
            name_id=self.idp_name_id("alice"), sign=False), None
        info = self.idp.server.apply_binding(
            "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", str(request_id[1]),
            self.provider.sp_sls_url, "", sign=True,
            sigalg=saml.C.RSA_SHA256)
        location = dict(info["headers"])["Location"]
        response = self.url_open(location, allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:300])
        self.assertFalse(self.session_uid())

    def test_logout_requests_must_be_signed_and_for_this_session(self):
        self.assertEqual(self.sp_login().status_code, 303)
        for name_id, sign in (("alice", False), ("someone-else", True)):
            request_id = self.idp.server.create_logout_request(
                self.provider.sp_sls_url, self.provider.sp_entity_id,
                name_id=self.idp_name_id(name_id), sign=False)
            info = self.idp.server.apply_binding(
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", str(request_id[1]),
                self.provider.sp_sls_url, "", sign=sign, sigalg=saml.C.RSA_SHA256)
            response = self.url_open(dict(info["headers"])["Location"], allow_redirects=False)
            self.assertEqual(response.status_code, 403)
            self.assertEqual(self.session_uid(), self.alice.id)  # still logged in

    @staticmethod
    def idp_name_id(text):
        from saml2.saml import NAMEID_FORMAT_UNSPECIFIED, NameID
        return NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=text)


class TestSamlAttacks(SamlCase):
    """Each hostile response is refused, with no session and an audited reason."""

    def test_replayed_assertion(self):
        fields = self.idp_answer(self.start_login())
        self.assertEqual(self.post_acs(fields).status_code, 303)
        self.url_open("/web/session/logout", allow_redirects=False)
        self.assertRefused(self.post_acs(fields), "unknown_request")  # request answered once
        self.provider.allow_idp_initiated = True
        fields = {"SAMLResponse": self.idp.encode(self.idp.response_xml(
            self.provider.sp_entity_id, self.provider.sp_acs_url))}
        self.assertEqual(self.post_acs(fields).status_code, 303)
        self.url_open("/web/session/logout", allow_redirects=False)
        self.assertRefused(self.post_acs(fields), "replay")

    def test_in_response_to_of_another_session(self):
        fields = self.idp_answer(self.start_login())
        self.opener.cookies.clear()  # another browser
        self.assertRefused(self.post_acs(fields), "unknown_request")

    def test_wrong_audience_destination_recipient(self):
        self.provider.allow_idp_initiated = True

        def audience(assertion):
            assertion.find(".//saml:Audience", NS).text = "https://other-sp.example.com/"

        def recipient(assertion):
            assertion.find(".//saml:SubjectConfirmationData", NS).set(
                "Recipient", "https://other-sp.example.com/acs")

        for change in (audience, recipient):
            self.assertRefused(self.post_acs(self.forged(change=change)), "invalid")
        xml = self.idp.response_xml(self.provider.sp_entity_id,
                                    "https://other-sp.example.com/acs")
        self.assertRefused(self.post_acs({"SAMLResponse": self.idp.encode(xml)}), "invalid")

    def test_a_bearer_confirmation_without_recipient_is_refused(self):
        # the IdP itself answers our request with no Recipient (signed, in time)
        self.idp.recipient = None
        fields = self.idp_answer(self.start_login())
        self.assertNotIn(b"Recipient=", self.idp.decode(fields["SAMLResponse"]))
        self.assertRefused(self.post_acs(fields), "no_recipient")
        # a Recipient that merely contains the ACS URL (python3-saml compares by substring)
        self.opener.cookies.clear()
        self.idp.recipient = self.provider.sp_acs_url + "/../../elsewhere"
        self.assertRefused(self.post_acs(self.idp_answer(self.start_login())), "wrong_recipient")
        # a second bearer confirmation without Recipient next to a good one
        self.provider.allow_idp_initiated = True

        def second_confirmation(assertion):
            confirmation = assertion.find(".//saml:SubjectConfirmation", NS)
            other = copy.deepcopy(confirmation)
            del other.find("saml:SubjectConfirmationData", NS).attrib["Recipient"]
            confirmation.addnext(other)

        self.assertRefused(self.post_acs(self.forged(change=second_confirmation)),
                           "no_recipient")
        # the same IdP with the Recipient the profile requires: signed in
        self.idp.recipient = ACS
        self.assertEqual(self.sp_login().status_code, 303)
        self.assertEqual(self.session_uid(), self.alice.id)

    def test_expired_not_yet_valid_and_clock_skew(self):
        self.provider.write({"allow_idp_initiated": True, "clock_skew": 60})
        from onelogin.saml2.utils import OneLogin_Saml2_Utils as U  # noqa: PLC0415

        def conditions(not_before=None, not_after=None, subject=0):
            """Conditions at now + the given offsets; the subject confirmation
            shifted by `subject` seconds."""
            def change(assertion):
                now = U.now()
                node = assertion.find("saml:Conditions", NS)
                if not_before is not None:
                    node.set("NotBefore", U.parse_time_to_SAML(now + not_before))
                if not_after is not None:
                    node.set("NotOnOrAfter", U.parse_time_to_SAML(now + not_after))
                data = assertion.find(".//saml:SubjectConfirmationData", NS)
                data.set("NotOnOrAfter", U.parse_time_to_SAML(
                    U.parse_SAML_to_time(data.get("NotOnOrAfter")) + subject))
            return change

        # the subject confirmation has expired
        self.assertRefused(self.post_acs(self.forged(change=conditions(subject=-3600))),
                           "invalid")
        # Conditions outside the 60 s skew: refused; inside: accepted
        self.assertRefused(self.post_acs(self.forged(change=conditions(not_after=-90))),
                           "has expired")
        self.assertRefused(self.post_acs(self.forged(change=conditions(not_before=90))),
                           "not valid yet")
        self.assertEqual(self.post_acs(self.forged(change=conditions(not_after=-30)))
                         .status_code, 303)
        self.url_open("/web/session/logout", allow_redirects=False)
        self.assertEqual(self.post_acs(self.forged(change=conditions(not_before=30)))
                         .status_code, 303)
        self.url_open("/web/session/logout", allow_redirects=False)
        # the same assertion times with a 10 s skew: refused
        self.provider.clock_skew = 10
        self.assertRefused(self.post_acs(self.forged(change=conditions(not_after=-30))),
                           "has expired")

    def test_stripped_in_response_to_and_no_expiry(self):
        self.provider.allow_idp_initiated = True
        # an SP-initiated answer whose Response lost its InResponseTo, posted elsewhere
        fields = self.idp_answer(self.start_login())
        root = etree.fromstring(self.idp.decode(fields["SAMLResponse"]))
        del root.attrib["InResponseTo"]
        self.opener.cookies.clear()
        self.assertRefused(self.post_acs({"SAMLResponse": self.idp.encode(
            etree.tostring(root))}), "unknown_request")

        def no_expiry(assertion):
            del assertion.find("saml:Conditions", NS).attrib["NotOnOrAfter"]
            del assertion.find(".//saml:SubjectConfirmationData", NS).attrib["NotOnOrAfter"]

        self.assertRefused(self.post_acs(self.forged(change=no_expiry)), "no_expiry")

    def test_unsigned_other_key_and_sha1(self):
        self.provider.allow_idp_initiated = True
        self.assertRefused(self.post_acs(self.forged(sign=False)), "invalid")
        key, cert = make_keypair("mallory")
        self.assertRefused(self.post_acs(self.forged(key=key, cert=cert)), "invalid")
        self.assertRefused(self.post_acs(self.forged(
            algorithm=saml.C.RSA_SHA1, digest=saml.C.SHA1)), "Deprecated signature algorithm")
        self.provider.allow_sha1 = True  # explicitly allowed
        self.assertEqual(self.post_acs(self.forged(
            algorithm=saml.C.RSA_SHA1, digest=saml.C.SHA1)).status_code, 303)

    def test_signature_wrapping(self):
        self.provider.allow_idp_initiated = True
        genuine = etree.fromstring(self.idp.forge(
            self.provider.sp_entity_id, self.provider.sp_acs_url).encode())
        signed = genuine.find("saml:Assertion", NS)

        def evil_copy():
            evil = copy.deepcopy(signed)
            evil.remove(evil.find("ds:Signature", NS))
            evil.find(".//saml:NameID", NS).text = "admin"
            evil.set("ID", "_evil")
            return evil

        # 1: an unsigned evil assertion before the signed one
        root = copy.deepcopy(genuine)
        root.insert(list(root).index(root.find("saml:Assertion", NS)), evil_copy())
        # 2: the signed assertion hidden inside the evil one (same ID as the reference)
        root2 = copy.deepcopy(genuine)
        hidden = root2.find("saml:Assertion", NS)
        evil = evil_copy()
        evil.set("ID", hidden.get("ID"))
        root2.replace(hidden, evil)
        evil.find("saml:Subject", NS).append(hidden)
        # 3: the signature moved into an extensions element of the response
        root3 = copy.deepcopy(genuine)
        original = root3.find("saml:Assertion", NS)
        extensions = etree.SubElement(root3, "{%s}Extensions" % NS["samlp"])
        root3.replace(original, evil_copy())
        extensions.append(original)
        # 4: the one signed assertion, its NameID changed after signing
        root4 = copy.deepcopy(genuine)
        root4.find(".//saml:NameID", NS).text = "admin"
        # 5: the signed assertion, plus an evil one in the response's own Extensions
        root5 = copy.deepcopy(genuine)
        extensions = etree.Element("{%s}Extensions" % NS["samlp"])
        root5.insert(list(root5).index(root5.find("saml:Assertion", NS)), extensions)
        extensions.append(evil_copy())
        for variant in (root, root2, root3, root4, root5):
            response = self.post_acs({"SAMLResponse": self.idp.encode(etree.tostring(variant))})
            self.assertRefused(response, "invalid")

    def test_comment_injection_in_name_id(self):
        self.provider.allow_idp_initiated = True

        def inject(assertion):
            name_id = assertion.find(".//saml:NameID", NS)
            name_id.text = "alice"
            comment = etree.Comment("")
            comment.tail = ".evil"
            name_id.append(comment)

        response = self.post_acs(self.forged(change=inject))
        # the NameID is "alice.evil" as a whole (no account), never "alice"
        self.assertRefused(response, "unknown_user")

    def test_doctype_and_oversized(self):
        self.provider.allow_idp_initiated = True
        xxe = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;'
               '</samlp:Response>')
        self.assertRefused(self.post_acs({"SAMLResponse": self.idp.encode(xxe)}), "malformed")
        huge = "A" * (saml.MAX_RESPONSE_BYTES + 1)
        self.assertRefused(self.post_acs({"SAMLResponse": huge}), "oversized")
        self.assertRefused(self.post_acs({"SAMLResponse": "not base64 !"}), "malformed")


class TestSamlBrowser(SamlCase):
    """What a person clicks, in Chromium, against the pysaml2 IdP."""

    def test_login_button_jit_role_mapping_and_logout(self):
        self.provider.write({"jit_create": True, "group_map_ids": [
            (0, 0, {"idp_group": "sales", "role": "viewer"})]})
        self.idp.user = {"name_id": "erin", "attributes": {
            "login": ["erin@sso.example.com"], "display_name": ["Erin"], "groups": ["sales"]}}
        self.start_tour("/web/login", "auth_saml_login_button", login=None)
        erin = self.env["res.users"].search([("login", "=", "erin@sso.example.com")])
        self.assertEqual((erin.name, erin.security_role), ("Erin", "viewer"))
        self.assertTrue(erin.login_date)
        self.assertEqual(self.idp.logouts[-1].name_id.text, "erin")  # SLO reached the IdP

    def test_domain_discovery(self):
        self.provider.jit_create = True
        self.idp.user = {"name_id": "dora", "attributes": {"login": ["dora@sso.example.com"]}}
        self.start_tour("/web/login", "auth_saml_domain_discovery", login=None)
        dora = self.env["res.users"].search([("login", "=", "dora@sso.example.com")])
        self.assertTrue(dora.login_date)
        self.assertEqual(len(self.idp.requests), 1)

    def test_idp_initiated(self):
        self.provider.allow_idp_initiated = True
        start = self.idp.start_url(self.provider.sp_entity_id, self.provider.sp_acs_url)
        self.start_tour(f"/web/login?idp_start={urllib.parse.quote(start)}",
                        "auth_saml_idp_initiated", login=None)
        self.alice.invalidate_recordset()
        self.assertTrue(self.alice.login_date)
        self.assertFalse(self.idp.requests)  # no AuthnRequest: started at the IdP
