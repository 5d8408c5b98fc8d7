import datetime
import hashlib
import ipaddress
import logging
import secrets
import time
from urllib.parse import urlparse

from odoo import api, fields, models
from odoo.addons.security_roles.roles import ROLE_ORDER, role_rank
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, config

from ..lib import domains, fetch, saml

_logger = logging.getLogger(__name__)

MAPPABLE_ROLES = [(role, role.capitalize()) for role in ROLE_ORDER if role != "owner"]
# the daily refresh: each provider once a day, and no run of it longer than this
# (plus one fetch); what is left is done by the next run, which Odoo starts at once
METADATA_CRON_BUDGET = 120
METADATA_CRON_HOURS = 20
TICKET_SECONDS = 60
SP_URL_FIELDS = frozenset({"sp_entity_id", "sp_acs_url", "sp_sls_url", "sp_metadata_url"})
SP_URL_HELP = ("Set when the provider is created, from the server's public URL (web.base.url), "
               "and kept when that URL changes. Only the Owner changes it; the IdP must then be "
               "given the new SP metadata.")


def sp_urls(base_url, provider_id):
    """The SP URLs of a provider served at `base_url` (web.base.url)."""
    prefix = f"{base_url.rstrip('/')}/auth_saml"
    return {"sp_entity_id": f"{prefix}/metadata/{provider_id}",
            "sp_metadata_url": f"{prefix}/metadata/{provider_id}",
            "sp_acs_url": f"{prefix}/acs/{provider_id}",
            "sp_sls_url": f"{prefix}/sls/{provider_id}"}


def allow_loopback_metadata():
    """odoo.conf `auth_saml_allow_http_loopback_metadata`: metadata from a
    loopback address, over http too. For tests and local development only."""
    value = config.get("auth_saml_allow_http_loopback_metadata")
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _is_loopback_host(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class AuthSamlProvider(models.Model):
    """A SAML 2.0 identity provider this database trusts."""
    _name = "auth.saml.provider"
    _description = "SAML Identity Provider"
    _order = "sequence, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    button_label = fields.Char(help="Text of the login button. Default: Log in with <name>.")
    email_domains = fields.Char(
        copy=False,
        help="Comma-separated e-mail domains: a login on one of them is sent to this provider "
             "from the login page, and only logins and e-mails on them are created on first "
             "login. A domain belongs to one provider (archived ones included); a subdomain "
             "is a domain of its own.")
    domain_ids = fields.One2many("auth.saml.provider.domain", "provider_id",
                                 string="Domain Index", readonly=True)
    # the identity provider
    idp_metadata = fields.Text(string="IdP Metadata (XML)")
    idp_metadata_url = fields.Char(string="IdP Metadata URL")
    idp_metadata_refreshed = fields.Datetime(readonly=True, copy=False)
    # the daily refresh takes the providers it tried least recently first
    idp_metadata_attempted = fields.Datetime(string="Last Refresh Attempt", readonly=True,
                                             copy=False)
    idp_entity_id = fields.Char(string="IdP Entity ID", required=True)
    idp_sso_url = fields.Char(string="IdP Sign-On URL", required=True)
    idp_slo_url = fields.Char(string="IdP Logout URL")
    idp_certificates = fields.Text(
        string="IdP Certificates", required=True,
        help="One or more PEM certificates of the IdP. Several are accepted at once so that "
             "the IdP can roll its signing key over.")
    # this service provider
    # set at creation from web.base.url, then fixed: Odoo rewrites web.base.url
    # from the Host header when a Settings user logs in, the IdP knows these
    sp_entity_id = fields.Char(string="SP Entity ID", copy=False, help=SP_URL_HELP)
    sp_acs_url = fields.Char(string="Assertion Consumer Service URL", copy=False,
                             help=SP_URL_HELP)
    sp_sls_url = fields.Char(string="Single Logout URL", copy=False, help=SP_URL_HELP)
    sp_metadata_url = fields.Char(string="SP Metadata URL", copy=False, help=SP_URL_HELP)
    can_change_sp_urls = fields.Boolean(string="Can Change SP URLs",
                                        compute="_compute_can_change_sp_urls")
    sp_certificate = fields.Text(string="SP Certificate")
    # groups=".": no one reads it through the ORM; server code reads it with sudo
    sp_private_key = fields.Text(groups=".", copy=False)
    sp_private_key_input = fields.Text(
        string="SP Private Key", compute="_compute_sp_private_key_input",
        inverse="_inverse_sp_private_key_input",
        help="Paste a PEM private key to replace the current one. It is never shown again.")
    sp_key_set = fields.Boolean(string="SP Key Set", compute="_compute_sp_private_key_input")
    # behaviour
    sign_requests = fields.Boolean(string="Sign Requests", default=True)
    want_encrypted = fields.Boolean(string="Require Encrypted Assertions")
    allow_sha1 = fields.Boolean(string="Accept SHA-1 Signatures",
                                help="Deprecated: only for an IdP that cannot sign with SHA-256.")
    allow_idp_initiated = fields.Boolean(string="Allow IdP-Initiated Login")
    clock_skew = fields.Integer(default=120, help="Seconds of clock difference tolerated.")
    trusted_mfa = fields.Boolean(
        string="Trusted for Two-Factor",
        help="The IdP enforces its own second factor: SSO logins skip Odoo's TOTP step.")
    sso_only = fields.Boolean(
        string="SSO Only", help="Users of this provider cannot log in with a password.")
    # identities and roles
    login_attribute = fields.Char(
        default="", help="Attribute holding the login (often the e-mail). Empty: the NameID.")
    name_attribute = fields.Char(default="", help="Attribute holding the display name.")
    email_attribute = fields.Char(default="")
    group_attribute = fields.Char(default="", help="Attribute listing the user's IdP groups.")
    group_map_ids = fields.One2many("auth.saml.group.map", "provider_id", string="Group Mapping")
    jit_create = fields.Boolean(string="Create Users on First Login")
    jit_role = fields.Selection(MAPPABLE_ROLES, string="Default Role", default="editor",
                                required=True)
    user_count = fields.Integer(compute="_compute_user_count")

    # security_roles' guard: the SP identity the IdP knows is changed only by
    # the Owner (or a technical-access Admin, or server code), audited
    _security_owner_fields = SP_URL_FIELDS

    _sql_constraints = [
        ("clock_skew_range", f"CHECK(clock_skew BETWEEN 0 AND {saml.MAX_CLOCK_SKEW})",
         f"The clock skew must be between 0 and {saml.MAX_CLOCK_SKEW} seconds."),
    ]

    @api.depends_context("uid")
    def _compute_can_change_sp_urls(self):
        owner = self.env["res.users"]._security_technical_actor()
        for provider in self:
            provider.can_change_sp_urls = owner

    def _compute_sp_private_key_input(self):
        keys = {p.id: bool(p.sp_private_key) for p in self.sudo()}  # sudo: presence only
        for provider in self:
            provider.sp_private_key_input = False
            provider.sp_key_set = keys.get(provider.id, False)

    def _inverse_sp_private_key_input(self):
        for provider in self:
            if provider.sp_private_key_input:
                key = provider.sp_private_key_input.strip()
                if "PRIVATE KEY-----" not in key:
                    raise ValidationError(self.env._("The SP private key must be a PEM key."))
                # sudo: the field is readable and writable by no one else
                provider.sudo().sp_private_key = key

    def _compute_user_count(self):
        counts = dict(self.env["res.users"]._read_group(
            [("saml_provider_id", "in", self.ids)], ["saml_provider_id"], ["__count"]))
        for provider in self:
            provider.user_count = counts.get(provider, 0)

    @api.constrains("idp_certificates")
    def _check_idp_certificates(self):
        for provider in self:
            try:
                if not saml.split_certificates(provider.idp_certificates):
                    raise ValueError("no certificate")
            except ValueError as error:
                raise ValidationError(self.env._(
                    "The IdP certificates of %(name)s could not be read: %(error)s",
                    name=provider.name, error=error)) from None

    @api.constrains(*SP_URL_FIELDS)
    def _check_sp_urls(self):
        for provider in self:
            for name in sorted(SP_URL_FIELDS):
                if not provider[name]:  # not yet: set at the end of create()
                    continue
                try:
                    saml.request_data(provider[name])
                except ValueError:
                    raise ValidationError(self.env._(
                        "%(field)s must be an absolute http(s) URL.",
                        field=provider._fields[name].string)) from None

    @api.constrains("jit_create", "email_domains")
    def _check_jit_domains(self):
        for provider in self:
            if provider.jit_create and not provider.email_domains:
                raise ValidationError(self.env._(
                    "%s creates users on first login: give it the e-mail domains it may create "
                    "users in (E-mail Domains), or turn user creation off.", provider.name))

    @api.constrains("idp_sso_url", "idp_slo_url", "idp_metadata_url")
    def _check_urls(self):
        for provider in self:
            for url in (provider.idp_sso_url, provider.idp_slo_url, provider.idp_metadata_url):
                if url and urlparse(url).scheme not in ("https", "http"):
                    raise ValidationError(self.env._("%s is not an http(s) URL.", url))
            url = provider.idp_metadata_url
            if url and urlparse(url).scheme != "https" and not (
                    allow_loopback_metadata() and _is_loopback_host(urlparse(url).hostname)):
                raise ValidationError(self.env._("The metadata URL must use https."))

    # ------------------------------------------------------------------
    # Metadata
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("idp_metadata"):
                vals.update(self._values_from_metadata(vals["idp_metadata"],
                                                       vals.get("idp_entity_id")))
            if "email_domains" in vals:
                vals["email_domains"] = self._normalize_domains(vals["email_domains"])
                self.browse()._check_domains_free(vals["email_domains"])
        providers = super().create(vals_list)
        providers._sync_domains()
        for provider in providers:
            missing = {name: url for name, url in provider._default_sp_urls().items()
                       if not provider[name]}
            if missing:
                provider.write(missing)
        return providers

    def _default_sp_urls(self):
        """The SP URLs of this provider under the current web.base.url."""
        self.ensure_one()
        # sudo: the public base URL, a system parameter
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        return sp_urls(base, self.id)

    def _security_owner_change_is_safe(self, fname, old, new):
        # the first value, given at creation, changes no identity an IdP knows
        return fname in SP_URL_FIELDS and not old

    def _check_owner_provider(self):
        """A provider the Owner logs in with is the Owner's to change: whoever
        controls its certificates or key could log in as the Owner."""
        if self.env.su:
            return
        owners = self.env["res.groups"]._security_owner_ids()
        if self.env.uid in owners:
            return
        # sudo: whether the Owner uses these providers, whoever asks
        linked = self.env["res.users"].sudo().with_context(active_test=False).search_count(
            [("id", "in", list(owners)), ("saml_provider_id", "in", self.ids)])
        if linked:
            raise AccessError(self.env._(
                "Only the Owner can change a single sign-on provider the Owner logs in with."))

    def write(self, vals):
        self._check_owner_provider()
        if any(name in vals and not vals[name] for name in SP_URL_FIELDS):
            raise ValidationError(self.env._(
                "The SP entity ID and URLs cannot be emptied: the IdP knows this service "
                "provider by them."))
        if vals.get("idp_metadata"):
            vals = dict(vals, **self._values_from_metadata(vals["idp_metadata"],
                                                           vals.get("idp_entity_id")))
        if "email_domains" in vals:
            vals = dict(vals, email_domains=self._normalize_domains(vals["email_domains"]))
            self._check_domains_free(vals["email_domains"])
        result = super().write(vals)
        if "email_domains" in vals:
            self._sync_domains()
        return result

    @api.model
    def _normalize_domains(self, text):
        try:
            return ", ".join(domains.parse_domain_list(text)) or False
        except ValueError as error:
            raise ValidationError(self.env._(
                "Not an e-mail domain: %s. Write domains such as example.com, separated by "
                "commas.", error)) from None

    def _check_domains_free(self, text):
        """Refuses the domains of `text` that a provider other than self's
        holds, archived or not (before anything is written). The unique index
        refuses them to a concurrent transaction this check cannot see."""
        # sudo: which provider holds a domain, whoever may read the index
        held = self.env["auth.saml.provider.domain"].sudo().search(
            [("name", "in", domains.parse_domain_list(text)),
             ("provider_id", "not in", self.ids)], limit=1)
        if held:
            raise ValidationError(self.env._(
                "The e-mail domain %(domain)s already belongs to the provider %(provider)s"
                "%(archived)s. A domain belongs to one provider: remove it there first.",
                domain=held.name, provider=held.provider_id.name,
                archived=self.env._(" (archived)") if not held.provider_id.active else ""))

    def _sync_domains(self):
        """The domain index follows email_domains."""
        Domain = self.env["auth.saml.provider.domain"].sudo()  # sudo: written only from here
        for provider in self:
            wanted = domains.parse_domain_list(provider.email_domains)
            provider._check_domains_free(provider.email_domains)  # several saved at once
            current = Domain.search([("provider_id", "=", provider.id)])
            current.filtered(lambda d: d.name not in wanted).unlink()
            Domain.create([{"provider_id": provider.id, "name": name}
                           for name in wanted if name not in current.mapped("name")])

    @api.model
    def _values_from_metadata(self, xml, entity_id=None):
        try:
            idp = saml.parse_idp_metadata(xml, entity_id=entity_id or None)
        except ValueError as error:
            raise UserError(self.env._("The IdP metadata was refused: %s", error)) from None
        return {
            "idp_entity_id": idp["entity_id"],
            "idp_sso_url": idp["sso_url"],
            "idp_slo_url": idp["slo_url"],
            "idp_certificates": "\n\n".join(
                f"-----BEGIN CERTIFICATE-----\n{cert}\n-----END CERTIFICATE-----"
                for cert in idp["certs"]),
        }

    def _fetch_metadata(self):
        """The document at the metadata URL (bytes). The user sees why it
        failed in our words only, never the remote server's; the server log
        has the details."""
        self.ensure_one()
        try:
            return fetch.fetch(self.idp_metadata_url, allow_loopback=allow_loopback_metadata(),
                               max_bytes=saml.MAX_METADATA_BYTES)
        except fetch.FetchError as error:
            _logger.warning("SAML metadata of %s not fetched from %s: %s (%s)", self.name,
                            self.idp_metadata_url, error.reason, error)
            raise UserError(self.env._(
                "The metadata could not be fetched from %(url)s: %(reason)s",
                url=self.idp_metadata_url, reason=self._fetch_error_text(error.reason))) from None

    def _fetch_error_text(self, reason):
        _ = self.env._
        return {
            "url": _("this is not a valid URL."),
            "scheme": _("the metadata URL must use https."),
            "resolve": _("its host name could not be resolved."),
            "address": _("its host is on a private, local or reserved network; only public "
                         "addresses are allowed."),
            "connect": _("its server could not be reached."),
            "tls": _("the server's TLS certificate could not be verified."),
            "timeout": _("its server did not answer in time."),
            "redirect": _("it redirects elsewhere; enter the final URL of the metadata."),
            "status": _("its server did not return the metadata."),
            "too_large": _("the document is larger than 1 MiB."),
        }.get(reason, _("its server's answer could not be read."))

    def _apply_fetched_metadata(self, xml, entity_id=None):
        """Writes the IdP fields of a fetched document. The user is told that it
        is no IdP metadata, not what the remote document holds."""
        self.ensure_one()
        try:
            saml.parse_idp_metadata(xml, entity_id=entity_id or None)
        except ValueError as error:
            _logger.warning("SAML metadata of %s at %s refused: %s", self.name,
                            self.idp_metadata_url, error)
            raise UserError(self.env._(
                "The document at %(url)s is not the metadata of %(entity)s.",
                url=self.idp_metadata_url,
                entity=entity_id or self.env._("an identity provider"))) from None
        self.write(dict({"idp_metadata": xml.decode("utf-8", errors="replace"),
                         "idp_metadata_refreshed": fields.Datetime.now()},
                        **({"idp_entity_id": entity_id} if entity_id else {})))

    def action_refresh_metadata(self):
        for provider in self:
            if not provider.idp_metadata_url:
                raise UserError(self.env._("%s has no metadata URL.", provider.name))
            provider._apply_fetched_metadata(provider._fetch_metadata())
        return True

    @api.model
    def _cron_refresh_metadata(self):
        """Each provider with a metadata URL, about once a day, least recently
        tried first. A run stops after METADATA_CRON_BUDGET seconds (each fetch
        has its own deadline) and reports what is left: Odoo runs the job again
        at once, in a new transaction, so no slow server holds it. Unattended,
        a refresh only renews the configured IdP (its certificates and URLs):
        a document describing another entity is refused."""
        started = time.monotonic()
        due = self.search([("idp_metadata_url", "!=", False), "|",
                           ("idp_metadata_attempted", "=", False),
                           ("idp_metadata_attempted", "<", fields.Datetime.subtract(
                               fields.Datetime.now(), hours=METADATA_CRON_HOURS))],
                          order="idp_metadata_attempted ASC NULLS FIRST, id")
        done = 0
        for provider in due:
            if done and time.monotonic() - started > METADATA_CRON_BUDGET:
                break
            try:
                with self.env.cr.savepoint():
                    provider._apply_fetched_metadata(provider._fetch_metadata(),
                                                     entity_id=provider.idp_entity_id)
            except UserError as error:
                _logger.warning("SAML metadata refresh of %s failed: %s", provider.name, error)
            provider.idp_metadata_attempted = fields.Datetime.now()
            done += 1
        self.env["ir.cron"]._notify_progress(done=done, remaining=len(due) - done)

    def action_generate_sp_key(self):
        """A new RSA-3072 key and a self-signed certificate (10 years) for this SP."""
        self.check_access("write")  # callable by RPC: the sudo write below needs this first
        self._check_owner_provider()
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        for provider in self:
            key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                    provider.sp_entity_id[:64])])
            now = datetime.datetime.utcnow()
            cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(days=1))
                    .not_valid_after(now + datetime.timedelta(days=3650))
                    .sign(key, hashes.SHA256()))
            provider.sudo().write({  # sudo: sp_private_key is written by no one else
                "sp_private_key": key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption()).decode(),
                "sp_certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
            })
        return True

    # ------------------------------------------------------------------
    # SAML
    # ------------------------------------------------------------------
    def _config(self):
        self.ensure_one()
        provider = self.sudo()  # sudo: the private key, for signing only
        return saml.ProviderConfig(
            sp_entity_id=provider.sp_entity_id, acs_url=provider.sp_acs_url,
            sls_url=provider.sp_sls_url, idp_entity_id=provider.idp_entity_id,
            idp_sso_url=provider.idp_sso_url, idp_slo_url=provider.idp_slo_url or "",
            idp_certs=tuple(saml.split_certificates(provider.idp_certificates)),
            sp_cert=provider.sp_certificate or "", sp_key=provider.sp_private_key or "",
            sign_requests=provider.sign_requests, want_encrypted=provider.want_encrypted,
            allow_sha1=provider.allow_sha1, clock_skew=provider.clock_skew)

    def _auth(self, url, method="GET", get=None, post=None):
        return saml.make_auth(self._config(), saml.request_data(url, method, get, post))

    def _sp_metadata(self):
        settings = self._auth(self.sp_metadata_url).get_settings()
        metadata = settings.get_sp_metadata()
        errors = settings.validate_metadata(metadata)
        if errors:
            raise UserError(self.env._("The SP metadata is invalid: %s", ", ".join(errors)))
        return metadata

    @api.model
    def _discover(self, login):
        """The active provider serving the e-mail domain of `login`, if any."""
        domain = domains.discovery_domain(login)
        if not domain:
            return self.browse()
        # sudo: called from the public login page; returns a provider id only
        held = self.env["auth.saml.provider.domain"].sudo().search([("name", "=", domain)])
        return held.provider_id.filtered("active")

    def _jit_in_domains(self, login, email):
        """Whether a new account for this login and e-mail (when the IdP sends
        one) stays within this provider's domains: the login is an address on
        one of them, and so is the e-mail."""
        own = set(self.domain_ids.mapped("name"))
        return all(domains.address_domain(value) in own
                   for value in [login] + ([email] if email else []))

    def _role_for_groups(self, idp_groups):
        """The highest role the IdP groups map to, or False."""
        wanted = set(idp_groups or ())
        roles = [line.role for line in self.group_map_ids if line.idp_group in wanted]
        return max(roles, key=role_rank) if roles else False

    def _attribute(self, attributes, name, default=None):
        values = attributes.get(name) or [] if name else []
        return values[0] if values else default

    def _user_for_assertion(self, nameid, attributes):
        """The user this assertion is for: only the one bound to this exact
        (provider, NameID). With just-in-time creation on, a new user is
        created; an existing account with the same login is never taken over.
        Raises saml.SamlError."""
        self.ensure_one()
        Users = self.env["res.users"].sudo().with_context(active_test=False)  # sudo: login
        user = Users.search([("saml_provider_id", "=", self.id), ("saml_uid", "=", nameid)])
        login = (self._attribute(attributes, self.login_attribute, nameid) or "").strip()
        role = self._role_for_groups(attributes.get(self.group_attribute) or []
                                     if self.group_attribute else [])
        if user:
            if not user.active:
                raise saml.SamlError("user_archived", self.env._("This account is archived."))
        elif not self.jit_create:
            raise saml.SamlError("unknown_user", self.env._(
                "No account is linked to this identity. Ask an administrator to link it."))
        elif not login:
            raise saml.SamlError("no_login", self.env._("The identity provider sent no login."))
        elif not self.domain_ids:
            raise saml.SamlError("jit_no_domain", self.env._(
                "%s has no e-mail domain, so it creates no accounts. Ask an administrator to "
                "give it its domains, or to link your account.", self.name))
        elif not self._jit_in_domains(login, self._attribute(attributes, self.email_attribute)):
            raise saml.SamlError("jit_outside_domains", self.env._(
                "Your login or e-mail is outside the e-mail domains of %s: no account is "
                "created for it. Ask an administrator to link your account.", self.name))
        elif Users.search_count([("login", "=ilike", login)]):
            raise saml.SamlError("login_taken", self.env._(
                "An account with the login %s already exists and is not linked to this "
                "identity provider. Ask an administrator to link it.", login))
        else:
            email = self._attribute(attributes, self.email_attribute) or (
                login if "@" in login else False)
            user = Users.with_context(no_reset_password=True).create({
                "login": login,
                "name": self._attribute(attributes, self.name_attribute) or login,
                "email": email,
                "saml_provider_id": self.id,
                "saml_uid": nameid,
            })
            role = role or self.jit_role
        if not role and self.group_map_ids and self.group_attribute:
            # the IdP decides the role: no mapped group left, the default role
            role = self.jit_role
        if role:
            user._saml_set_role(role)
        return user

    # ------------------------------------------------------------------
    # Replay cache and login tickets
    # ------------------------------------------------------------------
    def _remember_assertion(self, assertion_id, not_on_or_after):
        """False when this assertion id was already used (by any worker)."""
        self.env.cr.execute(SQL(
            "INSERT INTO auth_saml_assertion (provider_id, assertion_id, expires_at)"
            " VALUES (%s, %s, %s) ON CONFLICT (provider_id, assertion_id) DO NOTHING"
            " RETURNING id", self.id, assertion_id, not_on_or_after))
        return bool(self.env.cr.fetchone())

    def _issue_ticket(self, user):
        """A one-time secret that lets res.users._check_credentials log `user`
        in once, within a minute. Only its hash is stored."""
        token = secrets.token_urlsafe(32)
        self.env.cr.execute(SQL(
            "INSERT INTO auth_saml_ticket (user_id, provider_id, token_hash, expires_at)"
            " VALUES (%s, %s, %s, (now() at time zone 'utc') + interval '%s seconds')",
            user.id, self.id, hashlib.sha256(token.encode()).hexdigest(), TICKET_SECONDS))
        return token


class AuthSamlGroupMap(models.Model):
    _name = "auth.saml.group.map"
    _description = "SAML Group to Role"
    _order = "provider_id, id"

    provider_id = fields.Many2one("auth.saml.provider", required=True, ondelete="cascade")
    idp_group = fields.Char(string="IdP Group", required=True)
    role = fields.Selection(MAPPABLE_ROLES, required=True,
                            help="Owner is never granted by SSO: only a transfer makes an Owner.")


class AuthSamlAssertion(models.Model):
    """Assertion ids already consumed, so that none is accepted twice."""
    _name = "auth.saml.assertion"
    _description = "SAML Replay Cache"
    _log_access = False

    provider_id = fields.Many2one("auth.saml.provider", required=True, ondelete="cascade",
                                  readonly=True)
    assertion_id = fields.Char(required=True, readonly=True)
    expires_at = fields.Datetime(readonly=True)

    _sql_constraints = [("assertion_uniq", "unique(provider_id, assertion_id)",
                         "An assertion is used once.")]

    @api.model
    def _gc(self):
        # kept past expiry by the largest skew, so a late replay is still caught
        self.env.cr.execute(SQL(
            "DELETE FROM auth_saml_assertion WHERE expires_at < (now() at time zone 'utc')"
            " - interval '%s seconds'", saml.MAX_CLOCK_SKEW * 2))
        self.env.cr.execute("DELETE FROM auth_saml_ticket WHERE expires_at"
                            " < (now() at time zone 'utc')")


class AuthSamlTicket(models.Model):
    _name = "auth.saml.ticket"
    _description = "SAML Login Ticket"
    _log_access = False

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", readonly=True)
    provider_id = fields.Many2one("auth.saml.provider", required=True, ondelete="cascade",
                                  readonly=True)
    token_hash = fields.Char(required=True, readonly=True)
    expires_at = fields.Datetime(required=True, readonly=True)


class AuthSamlProviderDomain(models.Model):
    """The e-mail domains of the providers, one row each, normalized: the
    unique index keeps a domain to one provider, concurrent saves included."""
    _name = "auth.saml.provider.domain"
    _description = "SAML Provider E-mail Domain"
    _order = "name"

    name = fields.Char(required=True, readonly=True)
    provider_id = fields.Many2one("auth.saml.provider", required=True, ondelete="cascade",
                                  readonly=True, index=True)

    _sql_constraints = [("name_uniq", "unique(name)",
                         "An e-mail domain belongs to one SAML provider: remove it from the "
                         "other provider first.")]
