import contextlib
import contextvars
import functools
import hashlib
import logging
import math
import random
import secrets
import time

import psycopg2.errors
from passlib.context import CryptContext

from odoo import SUPERUSER_ID, Command, _, api, fields, models
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.http import request
from odoo.tools import SQL

from odoo.addons.base.models.res_users import Users as BaseUsers
from odoo.addons.security_roles.roles import role_rank

from ..lib import throttle

_logger = logging.getLogger(__name__)

BCRYPT_COST = 12
DEVICE_COOKIE = "auth_device"
DEVICE_COOKIE_DAYS = 180
# the password attempt core's login or RPC check is making (see _throttle_call)
_ATTEMPT = contextvars.ContextVar("auth_saml_password_attempt", default=None)
# the client of the XML-RPC / JSON-RPC call running (controllers/rpc.py)
_RPC_CLIENT = contextvars.ContextVar("auth_saml_rpc_client", default=None)


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
        refuses API keys with them. It is replaced by the throttle of
        _throttle_call and _check_credentials, where every password check goes
        (login, RPC, identity check, change of password, ownership transfer)."""
        yield

    @classmethod
    def _login(cls, db, credential, user_agent_env):
        # only a password is a guess: a verified SAML assertion, a passkey, a
        # one-time ticket are not counted, and password failures never refuse them
        if credential.get("type") != "password":
            return super()._login(db, credential, user_agent_env)
        if not _plausible_password(credential.get("password")):
            raise AccessDenied()  # never a password: the same answer for every login
        with cls._throttle_call(credential.get("login"), None, credential.get("password")):
            return super()._login(db, credential, user_agent_env)

    @classmethod
    def check(cls, db, uid, passwd):
        if not _plausible_password(passwd):
            raise AccessDenied()
        if cls._throttle_check_cached(uid, passwd):
            return super().check(db, uid, passwd)  # verified before: no check to throttle
        with cls._throttle_call(None, uid, passwd):
            return super().check(db, uid, passwd)

    @classmethod
    def _throttle_check_cached(cls, uid, passwd):
        """Whether core's check() has this (uid, password) in its cache (a
        success since the last change of credentials): every RPC call checks
        its password, and only a check that will really run is throttled."""
        try:
            cache = BaseUsers.__dict__["check"].__func__.__cache__
            entries, key0, _counter = cache.lru(cls)
            return (key0 + (uid, passwd)) in entries
        except (AttributeError, KeyError, TypeError):
            return False

    @classmethod
    @contextlib.contextmanager
    def _throttle_call(cls, login, uid, password):
        """Around core's login and RPC check, which run on a cursor of their
        own: the attempt is reserved before that cursor opens and settled after
        it closed (so that a rolled-back login cannot take its count along), by
        the login as typed, known or not (the same answer for both)."""
        with cls.pool.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            Users = env["res.users"]
            if uid:
                user = Users.browse(uid).exists()
                login = user.login
            else:
                user = Users.search(Users._get_login_domain(login), limit=1) if login else Users
            user = user.filtered("active")
            keys = Users._throttle_keys(user, login)
        wait = cls._throttle_reserve(keys)
        attempt = _Attempt(keys, wait)
        token = _ATTEMPT.set(attempt)
        try:
            yield
        except AccessDenied as denied:
            if wait and not getattr(denied, "throttled", False):
                # an unknown or archived login: the answer an existing one gets
                # (and the log does not keep what was typed)
                raise cls._throttle_refusal_for(None, wait) from None
            if not wait:
                if not user:  # as long as an existing login's check (no enumeration)
                    _dummy_verify(password)
                cls._throttle_settle(keys, failed=True)
            raise
        except Exception:
            if not wait:  # counted in advance: settled as the failure it is
                cls._throttle_settle(keys, failed=True)
            raise
        else:
            if not wait and not attempt.settled:
                cls._throttle_settle(keys, failed=False)
        finally:
            _ATTEMPT.reset(token)

    def _check_credentials(self, credential, env):
        if credential.get("type") != "password":
            return super()._check_credentials(credential, env)
        user = self.env.user
        interactive = (env or {}).get("interactive", True)
        if not _plausible_password(credential.get("password")):
            raise AccessDenied()
        attempt = _ATTEMPT.get()
        own = attempt is None  # a check of its own: identity check, password change...
        if own:
            keys = self._throttle_keys(user, user.login)
            wait = self._throttle_reserve(keys)
        else:
            keys, wait = attempt.keys, attempt.wait
        if wait:
            # API keys are never refused for failed passwords: only they are
            # checked while the password is throttled (non-interactive calls)
            if not interactive and credential.get("password") and self.env[
                    "res.users.apikeys"]._check_credentials(
                    scope="rpc", key=credential["password"]) == user.id:
                return {"uid": user.id, "auth_method": "apikey", "mfa": "default"}
            if own:
                self._throttle_audit_refusal(user, wait)
            raise self._throttle_refusal_for(user.login, wait)
        try:
            if not self._throttle_has_password(user):
                # as long as a real check: an account without a password (an
                # invitation, an SSO user) does not show by its speed
                _dummy_verify(credential["password"])
            info = super()._check_credentials(credential, env)
        except AccessDenied:
            if own:
                self._throttle_settle(keys, failed=True)
            raise
        if own:
            self._throttle_settle(keys, failed=False)
        if interactive and request and user._mfa_url() is None:
            self._throttle_issue_device(user)  # a login complete without a second step
        return info

    @api.model
    def _auth_client(self):
        """Who is asking: the source address (the client's own with
        proxy_mode) and the device cookie, from the HTTP request, or from an
        XML-RPC/JSON-RPC call (core hides the request while it runs, see
        controllers/rpc.py); None outside both (server code). Nothing here is
        trusted as such: a device cookie counts only with its signature."""
        if request:
            return {"source": throttle.source_key(request.httprequest.remote_addr),
                    "device": request.httprequest.cookies.get(DEVICE_COOKIE)}
        return _RPC_CLIENT.get() or {"source": None, "device": None}

    @api.model
    def _throttle_keys(self, user, login):
        """The counters a password attempt for `user` (or, if none, the login
        as typed) goes through. A known device (device cookie of this user,
        signed, and made before the user's current password) is its own
        source, and skips the per-address and per-login counters."""
        client = self._auth_client()
        label = throttle.login_key(user.login) if user else self._security_unknown_login_label(login)
        device = user and client["device"] and throttle.device_nonce(
            self._throttle_device_key(user), user.id, client["device"])
        if device:
            return [("login_source", throttle.pair_key(label, f"device {device}"))]
        source = client["source"] or "server"
        keys = [("login_source", throttle.pair_key(label, source))]
        if client["source"]:
            keys.append(("ip", source))
        keys.append(("login", label))
        return [(kind, key) for kind, key in keys if key]

    @classmethod
    def _throttle_reserve(cls, keys):
        """Reserve an attempt (auth.throttle._reserve) in a transaction of its
        own, retried when a concurrent attempt changed the same counters (a
        cursor's snapshot may predate the lock it waited for). Under too much
        contention, the attempt waits a second, like a throttled one (API keys
        are still checked)."""
        return cls._throttle_transaction(lambda Throttle: Throttle._reserve(keys), default=1)

    @classmethod
    def _throttle_settle(cls, keys, failed):
        cls._throttle_transaction(lambda Throttle: Throttle._settle(keys, failed), default=None)
        attempt = _ATTEMPT.get()
        if attempt is not None:
            attempt.settled = True

    @classmethod
    def _throttle_transaction(cls, work, default, tries=8):
        for attempt in range(tries):
            try:
                with cls.pool.cursor() as cr:
                    return work(api.Environment(cr, SUPERUSER_ID, {})["auth.throttle"])
            except (psycopg2.errors.SerializationFailure,
                    psycopg2.errors.DeadlockDetected):
                time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))
        _logger.warning("login throttling: counters too contended, attempt handled as throttled")
        return default

    @api.model
    def _throttle_has_password(self, user):
        self.env.cr.execute(SQL("SELECT COALESCE(password, '') <> '' FROM res_users WHERE id = %s",
                                user.id))
        row = self.env.cr.fetchone()
        return bool(row and row[0])

    @classmethod
    def _throttle_refusal_for(cls, login, wait):
        _logger.warning("password check for %s refused: throttled for %.0f s",
                        repr(login) if login else "an unknown login", wait)
        denied = AccessDenied(_("Too many failed logins. Try again in %s seconds.",
                                math.ceil(wait)))
        denied.throttled = True  # callers that word their own refusal keep this one
        return denied

    def _throttle_audit_refusal(self, user, wait):
        """A refused identity check, password change or transfer (a refused
        login is audited with the login): recorded on a cursor of its own, the
        refusal rolls the request back."""
        with self.pool.cursor() as cr:
            env = self.env(cr=cr, su=True)
            if "audit.event" in env:  # audit_trail is optional
                env["audit.event"].log(
                    "authentication", "password_check.throttled", outcome="denied",
                    user=user, login=user.login, model="res.users", res_id=user.id,
                    details={"retry_after": math.ceil(wait)}, immediate=False)
                env["audit.event"]._flush_buffer()

    @api.model
    def _throttle_device_key(self, user):
        """Signs the device cookies of `user`: the database secret, and the
        user's password hash (a new password forgets the devices)."""
        # sudo: the database secret; the hash is read by no one else
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret") or ""
        self.env.cr.execute(SQL("SELECT COALESCE(password, '') FROM res_users WHERE id = %s",
                                user.id))
        row = self.env.cr.fetchone()
        return secret + ":" + hashlib.sha256((row[0] if row else "").encode()).hexdigest()

    def _throttle_issue_device(self, user):
        """The browser that completed this user's login (password, and the
        second factor if any) becomes a known device: its failures count on
        their own, not with its address's nor the login's."""
        response = getattr(request, "future_response", None) if request else None
        if response is None:
            return
        current = request.httprequest.cookies.get(DEVICE_COOKIE)
        key = self._throttle_device_key(user)
        if current and throttle.device_nonce(key, user.id, current):
            return
        response.set_cookie(
            DEVICE_COOKIE, throttle.new_device_token(key, user.id),
            max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
            secure=request.httprequest.scheme == "https")


class _Attempt:
    """A password attempt reserved by _throttle_call: its counters, the wait
    it was given (0: counted, to be settled), whether it was settled."""
    __slots__ = ("keys", "wait", "settled")

    def __init__(self, keys, wait):
        self.keys, self.wait, self.settled = keys, wait, False


MAX_PASSWORD_SIZE = 4096  # passlib's: longer ones are never a user's password


def _plausible_password(password):
    """A password core could check: non-empty text of a sane size. Anything
    else is refused before any lookup, the same for every login (core would
    raise another error for existing accounts only)."""
    return isinstance(password, str) and 0 < len(password) <= MAX_PASSWORD_SIZE


@functools.cache
def _dummy_hash():
    """A bcrypt-12 hash of a random password, made once per process."""
    return CryptContext(["bcrypt_sha256"], bcrypt_sha256__rounds=BCRYPT_COST).hash(
        secrets.token_urlsafe(16))


def _dummy_verify(password):
    """Spend the time of a real password check (bcrypt-12) on nothing."""
    dummy = _dummy_hash()
    with contextlib.suppress(Exception):
        CryptContext(["bcrypt_sha256"]).verify(password or "", dummy)


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
