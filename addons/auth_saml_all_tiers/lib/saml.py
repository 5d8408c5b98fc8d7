"""SAML service-provider helpers on python3-saml, in plain Python (no Odoo).

The provider model turns its fields into a `ProviderConfig`; everything that
touches SAML messages goes through here."""
import base64
import binascii
import dataclasses
import datetime
import re

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

# a SAMLResponse larger than this (base64) is refused before it is decoded
MAX_RESPONSE_BYTES = 512 * 1024
MAX_METADATA_BYTES = 1024 * 1024
# python3-saml's own margin; a provider may only be stricter
MAX_CLOCK_SKEW = C.ALLOWED_CLOCK_DRIFT
PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S)


class SamlError(Exception):
    """A refused SAML message. `reason` is a short machine-readable code for
    the audit trail, the message is what the user is told."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


@dataclasses.dataclass
class ProviderConfig:
    sp_entity_id: str
    acs_url: str
    sls_url: str
    idp_entity_id: str
    idp_sso_url: str
    idp_slo_url: str = ""
    idp_certs: tuple = ()
    sp_cert: str = ""
    sp_key: str = ""
    sign_requests: bool = True
    want_encrypted: bool = False
    allow_sha1: bool = False
    clock_skew: int = 120
    name_id_format: str = C.NAMEID_UNSPECIFIED


def split_certificates(text):
    """The certificates (base64 bodies, one line each) of a text holding one
    or more PEM blocks or bare base64 bodies separated by blank lines."""
    text = (text or "").strip()
    if not text:
        return []
    bodies = PEM_RE.findall(text) or re.split(r"\n\s*\n", text)
    certs = []
    for body in bodies:
        body = re.sub(r"\s+", "", body)
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not a certificate: expected PEM or base64 DER") from None
        if body:
            certs.append(body)
    return certs


def settings_dict(cfg):
    security = {
        "authnRequestsSigned": bool(cfg.sign_requests and cfg.sp_key),
        "logoutRequestSigned": bool(cfg.sp_key),
        "logoutResponseSigned": bool(cfg.sp_key),
        "wantMessagesSigned": False,
        "wantAssertionsSigned": True,  # never optional
        "wantAssertionsEncrypted": bool(cfg.want_encrypted),
        "wantNameId": True,
        "wantAttributeStatement": False,
        "requestedAuthnContext": False,
        "signatureAlgorithm": C.RSA_SHA256,
        "digestAlgorithm": C.SHA256,
        "rejectDeprecatedAlgorithm": not cfg.allow_sha1,
        "allowRepeatAttributeName": True,
        "rejectUnsolicitedResponsesWithInResponseTo": False,  # checked by the caller
    }
    return {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": cfg.sp_entity_id,
            "assertionConsumerService": {"url": cfg.acs_url, "binding": C.BINDING_HTTP_POST},
            "singleLogoutService": {"url": cfg.sls_url, "binding": C.BINDING_HTTP_REDIRECT},
            "NameIDFormat": cfg.name_id_format,
            "x509cert": cfg.sp_cert or "",
            "privateKey": cfg.sp_key or "",
        },
        "idp": {
            "entityId": cfg.idp_entity_id,
            "singleSignOnService": {"url": cfg.idp_sso_url, "binding": C.BINDING_HTTP_REDIRECT},
            "singleLogoutService": {"url": cfg.idp_slo_url or "",
                                    "binding": C.BINDING_HTTP_REDIRECT},
            "x509certMulti": {"signing": list(cfg.idp_certs),
                              "encryption": list(cfg.idp_certs[:1])},
        },
        "security": security,
    }


def _response_class(clock_skew):
    class Response(OneLogin_Saml2_Response):
        """python3-saml's response with the provider's clock skew for the
        Conditions and SubjectConfirmationData time checks."""

        def validate_timestamps(self, raise_exceptions=True):
            now = OneLogin_Saml2_Utils.now()
            for conditions in self._query_assertion("/saml:Conditions"):
                not_before, not_after = conditions.get("NotBefore"), conditions.get("NotOnOrAfter")
                if not_before and OneLogin_Saml2_Utils.parse_SAML_to_time(not_before) > now + clock_skew:
                    raise OneLogin_Saml2_ValidationError(
                        "The assertion is not valid yet.",
                        OneLogin_Saml2_ValidationError.ASSERTION_TOO_EARLY)
                if not_after and OneLogin_Saml2_Utils.parse_SAML_to_time(not_after) + clock_skew <= now:
                    raise OneLogin_Saml2_ValidationError(
                        "The assertion has expired.",
                        OneLogin_Saml2_ValidationError.ASSERTION_EXPIRED)
            return True

    return Response


def make_auth(cfg, request_data):
    auth_class = type("Auth", (OneLogin_Saml2_Auth,),
                      {"response_class": _response_class(min(cfg.clock_skew, MAX_CLOCK_SKEW))})
    return auth_class(request_data, old_settings=settings_dict(cfg))


def request_data(url, method="GET", get=None, post=None):
    """python3-saml's view of a request, built from the provider's stored SP
    URL rather than from the Host header a client controls (nor from
    web.base.url, which Odoo rewrites from that header)."""
    parsed = re.match(r"^(https?)://([^/:]+)(?::(\d+))?(/.*)?$", url)
    if not parsed:
        raise ValueError(f"not an absolute http(s) URL: {url}")
    scheme, host, port, path = parsed.groups()
    return {
        "https": "on" if scheme == "https" else "off",
        "http_host": host,
        "server_port": port or ("443" if scheme == "https" else "80"),
        "script_name": path or "/",
        "get_data": dict(get or {}),
        "post_data": dict(post or {}),
        "request_method": method,
    }


def peek_response(saml_response):
    """Size cap, base64 and a DTD-free parse of a SAMLResponse before python3-saml
    validates it. Returns its InResponseTo (None for an unsolicited response)."""
    if not saml_response:
        raise SamlError("missing_response", "The identity provider sent no SAML response.")
    if len(saml_response) > MAX_RESPONSE_BYTES:
        raise SamlError("oversized", "The SAML response is too large.")
    try:
        root = OneLogin_Saml2_XML.to_etree(base64.b64decode(saml_response, validate=False))
    except Exception as error:  # DOCTYPE, entities, not XML, not base64
        raise SamlError("malformed", "The SAML response could not be read.") from error
    return root.get("InResponseTo")


NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}


def check_validated_response(xml, acs_url, in_response_to):
    """Checks python3-saml leaves loose, on a response it has validated (one
    assertion, signed): Destination equal to the ACS URL (it compares by
    prefix); every bearer SubjectConfirmationData with a Recipient, and that
    Recipient the ACS URL (it accepts none, and compares by substring), as the
    SAML Web Browser SSO profile requires; no InResponseTo in the assertion of
    an unsolicited response (a stripped SP-initiated one); and an expiry.
    Returns {"expires": latest NotOnOrAfter}."""
    root = OneLogin_Saml2_XML.to_etree(xml)
    destination = root.get("Destination")
    if destination and destination != acs_url:
        raise SamlError("wrong_destination", "The response is for another service.")
    expiries = []
    bearers = 0
    for confirmation in root.iterfind(".//saml:Assertion/saml:Subject/saml:SubjectConfirmation",
                                      NS):
        # python3-saml takes a confirmation without Method for a bearer one
        bearer = confirmation.get("Method", C.CM_BEARER) == C.CM_BEARER
        datas = confirmation.findall("saml:SubjectConfirmationData", NS)
        bearers += bearer
        if bearer and (not datas or not all(data.get("Recipient") for data in datas)):
            raise SamlError("no_recipient", "The response does not name the service it is for.")
        for data in datas:
            if data.get("Recipient") and data.get("Recipient") != acs_url:
                raise SamlError("wrong_recipient", "The response is for another service.")
            if data.get("InResponseTo") and data.get("InResponseTo") != in_response_to:
                raise SamlError("unknown_request",
                                "This sign-in was not started from this browser.")
            if data.get("NotOnOrAfter"):
                expiries.append(data.get("NotOnOrAfter"))
    if not bearers:
        raise SamlError("no_bearer", "The response has no bearer subject confirmation.")
    for conditions in root.iterfind(".//saml:Assertion/saml:Conditions", NS):
        if conditions.get("NotOnOrAfter"):
            expiries.append(conditions.get("NotOnOrAfter"))
    if not expiries:
        raise SamlError("no_expiry", "The assertion has no expiry.")
    return {"expires": max(expiries, key=OneLogin_Saml2_Utils.parse_SAML_to_time)}


def logout_request_nameid(saml_request):
    """The NameID of a deflated, base64 LogoutRequest (HTTP-Redirect)."""
    from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request  # noqa: PLC0415
    try:
        xml = OneLogin_Saml2_Utils.decode_base64_and_inflate(saml_request)
        return OneLogin_Saml2_Logout_Request.get_nameid(xml)
    except Exception:  # noqa: BLE001 (malformed: no identity)
        return None


def parse_idp_metadata(xml, entity_id=None):
    """The IdP fields of a metadata document: entity id, SSO and SLO URLs
    (HTTP-Redirect binding) and signing certificates (all of them)."""
    if isinstance(xml, str):
        xml = xml.encode()
    if len(xml) > MAX_METADATA_BYTES:
        raise ValueError("the metadata document is larger than 1 MiB")
    try:
        data = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id)
    except Exception as error:
        raise ValueError(f"the metadata could not be read: {error}") from error
    idp = data.get("idp")
    if not idp or not idp.get("entityId"):
        raise ValueError("the metadata holds no identity provider (IDPSSODescriptor)")
    certs = idp.get("x509certMulti", {}).get("signing") or (
        [idp["x509cert"]] if idp.get("x509cert") else [])
    if not certs:
        raise ValueError("the metadata holds no signing certificate")
    return {
        "entity_id": idp["entityId"],
        "sso_url": idp.get("singleSignOnService", {}).get("url") or "",
        "slo_url": idp.get("singleLogoutService", {}).get("url") or "",
        "certs": certs,
    }


def parse_time(value):
    return datetime.datetime.fromtimestamp(OneLogin_Saml2_Utils.parse_SAML_to_time(value),
                                           datetime.timezone.utc).replace(tzinfo=None)
