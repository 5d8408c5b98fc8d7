import contextlib
import contextvars
import hashlib
import logging
import math

from passlib.context import CryptContext

from odoo import SUPERUSER_ID, Command, api, fields, models
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.http import request
from odoo.tools import SQL

from odoo.addons.security_roles.roles import role_rank

from ..lib import throttle

_logger = logging.getLogger(__name__)

BCRYPT_COST = 12
DEVICE_COOKIE = "auth_device"
DEVICE_COOKIE_DAYS = 180
# within core's login or RPC check: whether it checks a password (None: neither)
_PASSWORD_ATTEMPT = contextvars.ContextVar("auth_saml_password_attempt", default=None)


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

    # -- throttling: every password check, one mechanism -------------------
    @contextlib.contextmanager
    def _assert_can_auth(self, user=None):
        """Core's cooldown counts failures per process and per address, and
        refuses API keys with them. Here password checks are throttled in
        _check_credentials, where every one goes (login, RPC, identity check,
        change of password, ownership transfer). What is left to this hook is an
        attempt that never gets there: an unknown or archived login."""
        try:
            yield
        except AccessDenied as denied:
            if not _PASSWORD_ATTEMPT.get() or getattr(denied, "_auth_throttle_seen", False):
                raise
            login = user if isinstance(user, str) else (
                self.sudo().browse(user).login if user else None)  # sudo: uid -> login only
            keys = self._throttle_keys(login, trusted=None)
            wait, _counted = self._throttle_state(keys)
            if wait:  # the same answer as for an existing login: no enumeration
                raise self._throttle_refusal(login, wait) from None
            self._throttle_failed(denied, keys)
            raise

    @classmethod
    def _login(cls, db, credential, user_agent_env):
        # only a password is a guess: a verified SAML assertion, a passkey, a
        # one-time ticket are not counted, and password failures never refuse them
        with cls._throttle_call(credential.get("type") == "password"):
            return super()._login(db, credential, user_agent_env)

    @classmethod
    def check(cls, db, uid, passwd):
        with cls._throttle_call(True):
            return super().check(db, uid, passwd)

    @classmethod
    @contextlib.contextmanager
    def _throttle_call(cls, password):
        """Around core's login and RPC check, which run on a cursor of their
        own: a failure is counted once that cursor is gone (in tests, cursors
        nest, and the failed login's rollback would take the count along)."""
        token = _PASSWORD_ATTEMPT.set(password)
        try:
            yield
        except AccessDenied as denied:
            keys = getattr(denied, "_auth_throttle_keys", None)
            if keys:
                with cls.pool.cursor() as cr:
                    api.Environment(cr, SUPERUSER_ID, {})["auth.throttle"]._record_failure(keys)
            raise
        finally:
            _PASSWORD_ATTEMPT.reset(token)

    def _check_credentials(self, credential, env):
        if credential.get("type") != "password":
            return super()._check_credentials(credential, env)
        user = self.env.user
        interactive = (env or {}).get("interactive", True)
        client = self._auth_client()
        device = client["device"] and throttle.device_nonce(
            self._throttle_device_key(), user.id, client["device"])
        trusted = "device" if device else (
            "session" if client["session_uid"] == user.id else None)
        keys = self._throttle_keys(user.login, trusted=trusted, device=device)
        wait, counted = self._throttle_state(keys)
        if wait:
            # API keys are never refused for failed passwords: only they are
            # checked while the password is throttled (non-interactive calls)
            if not interactive and credential.get("password") and self.env[
                    "res.users.apikeys"]._check_credentials(
                    scope="rpc", key=credential["password"]) == user.id:
                return {"uid": user.id, "auth_method": "apikey", "mfa": "default"}
            raise self._throttle_refusal(user.login, wait)
        try:
            info = super()._check_credentials(credential, env)
        except AccessDenied as denied:
            self._throttle_failed(denied, keys)
            raise
        if keys[0] in counted:  # a right password forgets that pair's failures
            self._throttle_record_success(keys[0][1])
        if interactive and client["source"] and not device and request:
            self._throttle_issue_device(user)
        return info

    @api.model
    def _auth_client(self):
        """Who is asking: the source address (the client's own with
        proxy_mode), the device cookie, and the user the session is logged in
        as. Nothing here is trusted as such: the device cookie is checked
        against its signature, the session against the user checked."""
        if not request:
            return {"source": None, "device": None, "session_uid": None}
        return {
            "source": throttle.source_key(request.httprequest.remote_addr),
            "device": request.httprequest.cookies.get(DEVICE_COOKIE),
            "session_uid": request.session.uid,
        }

    @api.model
    def _throttle_keys(self, login, trusted=None, device=None):
        """The counters a password attempt for `login` goes through. A known
        device is its own source; a known device or session skips the ceiling
        on the login (an attacker spread over many addresses cannot make the
        real user wait there)."""
        login = throttle.login_key(login)
        source = self._auth_client()["source"] or "local"
        keys = [("login_source", throttle.pair_key(login, f"device {device}" if device else source))]
        if source != "local":
            keys.append(("ip", source))
        if not trusted:
            keys.append(("login", login))
        return [(kind, key) for kind, key in keys if key]

    @api.model
    def _throttle_state(self, keys):
        """(seconds to wait, the keys that have counters)"""
        return self.env["auth.throttle"].sudo()._state(keys)  # sudo: counters belong to no user

    @api.model
    def _throttle_refusal(self, login, wait):
        _logger.warning("password check for %r refused: throttled for %.0f s", login, wait)
        denied = AccessDenied(self.env._(
            "Too many failed logins. Try again in %s seconds.", math.ceil(wait)))
        denied._auth_throttle_seen = True
        denied.throttled = True  # callers that word their own refusal keep this one
        return denied

    @api.model
    def _throttle_failed(self, denied, keys):
        """Count a failure on a cursor of its own, committed whatever becomes
        of the failed check's transaction: at once, or within a login or an RPC
        check, once its cursor is gone (_throttle_call)."""
        denied._auth_throttle_seen = True
        if _PASSWORD_ATTEMPT.get() is not None:
            denied._auth_throttle_keys = keys
            return
        with self.pool.cursor() as cr:
            self.env(cr=cr, su=True)["auth.throttle"]._record_failure(keys)

    @api.model
    def _throttle_record_success(self, key):
        with self.pool.cursor() as cr:
            self.env(cr=cr, su=True)["auth.throttle"]._record_success(key)

    @api.model
    def _throttle_device_key(self):
        # sudo: the database secret signs the device cookies
        return self.env["ir.config_parameter"].sudo().get_param("database.secret")

    def _throttle_issue_device(self, user):
        """The browser that gave this user's right password becomes a known
        device: its failures count on their own, not with its address's."""
        response = getattr(request, "future_response", None)
        if response is None:
            return
        response.set_cookie(
            DEVICE_COOKIE, throttle.new_device_token(self._throttle_device_key(), user.id),
            max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
            secure=request.httprequest.scheme == "https")


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
        sso_only = provider.sso_only and provider.active
        if credential.get("type") == "webauthn":
            # a passkey is another way in: "SSO only" closes it too, and it
            # does not stand in for the second factor the role's policy requires
            if sso_only:
                _logger.info("passkey login refused for %s: %s is SSO only",
                             self.env.user.login, provider.name)
                raise AccessDenied(self.env._("This account signs in with %s.", provider.name))
            info = super()._check_credentials(credential, env)
            if info.get("mfa") == "skip" and self.env.user.mfa_required:
                info = dict(info, mfa="default")
            return info
        if credential.get("type") == "password" and sso_only:
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


class ResUsersIdentityCheck(models.TransientModel):
    _inherit = "res.users.identitycheck"

    def _check_identity(self):
        try:
            return super()._check_identity()
        except UserError as refused:
            # core words every refusal "Incorrect password": a throttled check
            # was not even tried, and the user should know to wait
            if getattr(refused.__context__, "throttled", False):
                raise UserError(str(refused.__context__)) from None
            raise
