"""A SAML 2.0 identity provider on 127.0.0.1 built on pysaml2 (another SAML
implementation than the SP's python3-saml), for the tests.

It answers AuthnRequests (HTTP-Redirect) for whichever user the test says is
logged in at the IdP, starts IdP-initiated logins, answers SLO, and signs with
xmlsec1. `forge()` builds the hostile responses of the attack tests: a genuine
pysaml2 assertion, changed, then signed (or not) with a chosen key."""
import base64
import datetime
import html
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_UNSPECIFIED, NameID
from saml2.server import Server

ACS = object()  # TestIdP.recipient: the ACS URL of the request
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#"}


def make_keypair(common_name="test idp"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode(),
            cert.public_bytes(serialization.Encoding.PEM).decode())


def auto_post_form(url, fields):
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}"/>'
                     for k, v in fields.items() if v is not None)
    return (f'<html><body onload="document.forms[0].submit()"><form method="post" '
            f'action="{html.escape(url)}">{inputs}<noscript><button>Continue</button>'
            f"</noscript></form></body></html>")


class TestIdP:
    """Start with `with TestIdP(sp_metadata) as idp:`; set `idp.user` to the
    identity ({"name_id": ..., "attributes": {...}}) logged in at the IdP."""

    def __init__(self, sp_metadata):
        self.tmp = tempfile.TemporaryDirectory(prefix="saml-idp-")
        self.key_pem, self.cert_pem = make_keypair()
        self.key_file = Path(self.tmp.name, "idp.key")
        self.cert_file = Path(self.tmp.name, "idp.crt")
        self.key_file.write_text(self.key_pem)
        self.cert_file.write_text(self.cert_pem)
        self.sp_metadata = sp_metadata
        self.user = None
        self.encrypt_cert = None
        # the Recipient of the bearer confirmation: the ACS URL the response
        # goes to (ACS), another URL, or None for no Recipient at all
        self.recipient = ACS
        self.requests = []  # parsed AuthnRequests, for assertions on them
        self.logouts = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.entity_id = f"{self.base}/idp/metadata"
        self.server = Server(config=self._config())

    def _config(self):
        config = IdPConfig()
        config.load({
            "entityid": self.entity_id,
            "service": {"idp": {
                "name": "Test IdP",
                "endpoints": {
                    "single_sign_on_service": [(f"{self.base}/idp/sso", BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(f"{self.base}/idp/slo", BINDING_HTTP_REDIRECT)],
                },
                "policy": {"default": {"lifetime": {"minutes": 5},
                                       "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_BASIC}},
                "want_authn_requests_signed": True,
                "name_id_format": [NAMEID_FORMAT_UNSPECIFIED],
            }},
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
            "encryption_keypairs": [{"key_file": str(self.key_file),
                                     "cert_file": str(self.cert_file)}],
            "metadata": {"inline": [self.sp_metadata]},
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "attribute_map_dir": None,
        })
        return config

    def metadata(self):
        return create_metadata_string(None, config=self._config()).decode()

    # -- lifecycle -------------------------------------------------------
    def __enter__(self):
        self.serving = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.serving.start()
        return self

    def __exit__(self, *exc):
        if getattr(self, "serving", None):  # shutdown() waits for a loop that never ran
            self.httpd.shutdown()
        self.httpd.server_close()
        self.tmp.cleanup()

    # -- responses -------------------------------------------------------
    def response_xml(self, sp_entity_id, acs_url, in_response_to=None, user=None,
                     sign_assertion=True, **kwargs):
        """A response to the SP; its assertion is encrypted for `self.encrypt_cert`
        (the SP's certificate, PEM) when that is set, and its Recipient is
        `self.recipient`."""
        user = user or self.user
        if self.recipient is not ACS and sign_assertion:
            # pysaml2 always writes the ACS URL: the assertion is changed, then signed
            return self.forge(sp_entity_id, acs_url, in_response_to, user,
                              change=self._set_recipient)
        extra = {}
        if self.encrypt_cert:
            # pysaml2's default "self-contained" encryption re-declares namespaces
            # in the assertion after it was signed, which breaks its own signature
            extra = {"encrypt_assertion": True, "encrypted_advice_attributes": False,
                     "encrypt_cert_assertion": self.encrypt_cert,
                     "encrypt_assertion_self_contained": False}
        return str(self.server.create_authn_response(
            identity=user.get("attributes", {}), in_response_to=in_response_to,
            destination=acs_url, sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=user["name_id"]),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
            sign_response=False, sign_assertion=sign_assertion, sign_alg=kwargs.pop(
                "sign_alg", C.RSA_SHA256), digest_alg=kwargs.pop("digest_alg", C.SHA256),
            **extra, **kwargs))

    def _set_recipient(self, assertion):
        for data in assertion.iterfind(".//saml:SubjectConfirmationData", NS):
            if self.recipient is None:
                data.attrib.pop("Recipient", None)
            else:
                data.set("Recipient", self.recipient)

    @staticmethod
    def decode(saml_response):
        return base64.b64decode(saml_response)

    @staticmethod
    def encode(xml):
        return base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()

    def forge(self, sp_entity_id, acs_url, in_response_to=None, user=None, change=None,
              key=None, cert=None, algorithm=C.RSA_SHA256, digest=C.SHA256, sign=True):
        """A response whose assertion is pysaml2's, passed through `change`
        (a function of the assertion element) and then signed with `key`
        (default: the IdP's own), or left unsigned. Not with `encrypt_cert`."""
        xml = self.response_xml(sp_entity_id, acs_url, in_response_to, user,
                                sign_assertion=False)
        root = etree.fromstring(xml.encode())
        assertion = root.find("saml:Assertion", NS)
        if change:
            change(assertion)
        if sign:
            signed = OneLogin_Saml2_Utils.add_sign(
                etree.tostring(assertion), key or self.key_pem, cert or self.cert_pem,
                sign_algorithm=algorithm, digest_algorithm=digest)
            new = etree.fromstring(signed)
            root.replace(assertion, new)
        return etree.tostring(root).decode()

    # -- HTTP ------------------------------------------------------------
    def _handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, content_type="text/html", location=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if location:
                    self.send_header("Location", location)
                data = body.encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                try:
                    if url.path == "/idp/metadata":
                        return self._send(200, idp.metadata(), "application/samlmetadata+xml")
                    if url.path == "/idp/sso":
                        return self._sso(query)
                    if url.path == "/idp/slo":
                        return self._slo(query)
                    if url.path == "/idp/start":  # IdP-initiated: the user's portal tile
                        acs, fields = idp.idp_initiated(query["sp"], query["acs"])
                        return self._send(200, auto_post_form(acs, fields))
                except Exception as error:
                    return self._send(500, f"IdP error: {error!r}", "text/plain")
                return self._send(404, "not found", "text/plain")

            def _sso(self, query):
                parsed = idp.server.parse_authn_request(
                    query["SAMLRequest"], BINDING_HTTP_REDIRECT,
                    relay_state=query.get("RelayState"), sigalg=query.get("SigAlg"),
                    signature=query.get("Signature"))
                request = parsed.message
                idp.requests.append(parsed)
                if idp.user is None:
                    return self._send(403, "nobody is logged in at the IdP", "text/plain")
                xml = idp.response_xml(request.issuer.text, request.assertion_consumer_service_url,
                                       request.id)
                return self._send(200, auto_post_form(request.assertion_consumer_service_url, {
                    "SAMLResponse": idp.encode(xml), "RelayState": query.get("RelayState")}))

            def _slo(self, query):
                if "SAMLRequest" in query:
                    parsed = idp.server.parse_logout_request(
                        query["SAMLRequest"], BINDING_HTTP_REDIRECT,
                        relay_state=query.get("RelayState"), sigalg=query.get("SigAlg"),
                        signature=query.get("Signature"))
                    idp.logouts.append(parsed.message)
                    response = idp.server.create_logout_response(
                        parsed.message, [BINDING_HTTP_REDIRECT], sign=False)
                    destination = idp.server.metadata.single_logout_service(
                        parsed.message.issuer.text, BINDING_HTTP_REDIRECT, "spsso")[0]["location"]
                    info = idp.server.apply_binding(BINDING_HTTP_REDIRECT, str(response),
                                                    destination, query.get("RelayState", ""),
                                                    response=True)
                    location = dict(info["headers"])["Location"]
                    return self._send(303, "", location=location)
                return self._send(400, "no SAMLRequest", "text/plain")

        return Handler

    def start_url(self, sp_entity_id, acs_url):
        """The IdP page a person opens to log in to the SP from the IdP."""
        return f"{self.base}/idp/start?" + urllib.parse.urlencode({"sp": sp_entity_id,
                                                                    "acs": acs_url})

    def idp_initiated(self, sp_entity_id, acs_url, relay_state=None):
        """The form an IdP-initiated login posts: (url, fields)."""
        return acs_url, {"SAMLResponse": self.encode(self.response_xml(sp_entity_id, acs_url)),
                         "RelayState": relay_state}


__all__ = ["ACS", "BINDING_HTTP_POST", "NS", "TestIdP", "auto_post_form", "make_keypair"]
