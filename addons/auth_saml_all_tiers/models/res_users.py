import contextlib
import contextvars
import hashlib
import logging
import math

from passlib.context import CryptContext

from odoo import SUPERUSER_ID, Command, api, fields, models
from odoo.exceptions import AccessDenied, AccessError
from odoo.http import request
from odoo.tools import SQL

from odoo.addons.security_roles.roles import role_rank

_logger = logging.getLogger(__name__)

BCRYPT_COST = 12
_VERIFIED_SSO = contextvars.ContextVar("auth_saml_verified_sso", default=False)


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model
    def _crypt_context(self):
        """bcrypt with cost 12. bcrypt_sha256 pre-hashes the password, so
        nothing past bcrypt's 72 bytes is silently ignored. Older hashes
        (Odoo's pbkdf2, plain bcrypt) still verify and are replaced by a
        bcrypt-12 hash at the next successful login."""
        return CryptContext(
            ["bcrypt_sha256", "bcrypt", "pbkdf2_sha512", "plaintext"],
            default="bcrypt_sha256",
            deprecated=["bcrypt", "pbkdf2_sha512", "plaintext"],
            bcrypt_sha256__rounds=BCRYPT_COST,
        )

    @contextlib.contextmanager
    def _assert_can_auth(self, user=None):
        """Core's cooldown counts failures per process and per IP; this one
        counts them in the database, per login and per IP, with growing delays
        and a lockout, so every worker enforces the same limits."""
        login = user if isinstance(user, str) else (
            self.sudo().browse(user).login if user else None)  # sudo: uid -> login only
        keys = [("login", login and login.strip().lower()),
                ("ip", request.httprequest.remote_addr if request else None)]
        Throttle = self.env["auth.throttle"].sudo()  # sudo: counters belong to no user
        wait = 0 if _VERIFIED_SSO.get() else Throttle._retry_after(keys)
        if wait:
            _logger.warning("login attempt for %r refused: throttled for %.0f s", login, wait)
            raise AccessDenied(self.env._(
                "Too many failed logins. Try again in %s seconds.", math.ceil(wait)))
        try:
            yield
        except AccessDenied as denied:
            # counted by _login/check once the failing transaction is gone
            denied.auth_throttle_keys = keys
            raise
        Throttle._record_success(keys[0][1])

    @classmethod
    def _login(cls, db, credential, user_agent_env):
        # a verified SAML assertion is not a password guess: failed passwords
        # (anyone can cause them) must not lock single sign-on out
        token = _VERIFIED_SSO.set(credential.get("type") == "saml")
        try:
            return super()._login(db, credential, user_agent_env)
        except AccessDenied as denied:
            cls._throttle_failure(denied)
            raise
        finally:
            _VERIFIED_SSO.reset(token)

    @classmethod
    def check(cls, db, uid, passwd):
        try:
            return super().check(db, uid, passwd)
        except AccessDenied as denied:
            cls._throttle_failure(denied)
            raise

    @classmethod
    def _throttle_failure(cls, denied):
        keys = getattr(denied, "auth_throttle_keys", None)
        if keys:  # a refusal by the throttle itself carries none: not a new failure
            with cls.pool.cursor() as cr:
                api.Environment(cr, SUPERUSER_ID, {})["auth.throttle"]._record_failure(keys)


class ResUsersSaml(models.Model):
    _inherit = "res.users"

    saml_provider_id = fields.Many2one(
        "auth.saml.provider", string="SAML Provider", ondelete="restrict", copy=False,
        groups="security_roles.group_role_admin")
    saml_uid = fields.Char(
        string="SAML NameID", copy=False, groups="security_roles.group_role_admin",
        help="The NameID the identity provider asserts for this user. Only an assertion with "
             "this exact NameID logs the user in.")

    _sql_constraints = [
        ("saml_uid_uniq", "unique(saml_provider_id, saml_uid)",
         "A SAML identity belongs to one user."),
    ]

    def write(self, vals):
        if {"saml_provider_id", "saml_uid"} & set(vals) and not self.env.su:
            # linking the Owner to an IdP is logging in as the Owner: the Owner's call
            owners = self.env["res.groups"]._security_owner_ids()
            if self.env.uid not in owners and owners & set(self.ids):
                raise AccessError(self.env._(
                    "Only the Owner can link the Owner's account to single sign-on."))
        return super().write(vals)

    def _check_credentials(self, credential, env):
        if credential.get("type") == "saml":
            return self._check_saml_ticket(credential)
        # sudo: whether the user's provider is SSO-only
        provider = self.env.user.sudo().saml_provider_id
        if credential.get("type") == "password" and provider.sso_only and provider.active:
            # refused before the password is checked (no oracle); API keys still
            # work for integrations (non-interactive calls only, as in core)
            if not (env or {}).get("interactive", True) and self.env[
                    "res.users.apikeys"]._check_credentials(
                    scope="rpc", key=credential.get("password") or "") == self.env.uid:
                return {"uid": self.env.uid, "auth_method": "apikey", "mfa": "default"}
            _logger.info("password login refused for %s: %s is SSO only",
                         self.env.user.login, provider.name)
            raise AccessDenied(self.env._("This account signs in with %s.", provider.name))
        return super()._check_credentials(credential, env)

    def _check_saml_ticket(self, credential):
        token = credential.get("token") or ""
        self.env.cr.execute(SQL(
            "DELETE FROM auth_saml_ticket WHERE user_id = %s AND token_hash = %s"
            " AND expires_at > (now() at time zone 'utc') RETURNING provider_id",
            self.env.user.id, hashlib.sha256(token.encode()).hexdigest()))
        row = self.env.cr.fetchone()
        if not row:
            raise AccessDenied()
        # sudo: the provider of a ticket just consumed, read during the login
        provider = self.env["auth.saml.provider"].sudo().browse(row[0])
        # the Owner always gives Odoo's own second factor
        trusted = provider.trusted_mfa and self.env.uid not in \
            self.env["res.groups"]._security_owner_ids()
        return {"uid": self.env.user.id, "auth_method": "saml",
                "mfa": "skip" if trusted else "default"}

    def _saml_set_role(self, role):
        """Give the role mapped from the IdP groups. The Owner is left alone
        (only a transfer changes the Owner), and SSO never grants Owner."""
        self.ensure_one()
        if self.security_role == role or self.security_role == "owner" or role == "owner":
            return
        groups = self.env["res.groups"]._security_role_groups()
        commands = [Command.unlink(group.id) for name, group in groups.items()
                    if group and role_rank(name) > role_rank(role)]
        self.write({"groups_id": [*commands, Command.link(groups[role].id)]})
