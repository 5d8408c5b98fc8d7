import contextlib
import logging
import math

from passlib.context import CryptContext

from odoo import SUPERUSER_ID, api, models
from odoo.exceptions import AccessDenied
from odoo.http import request

_logger = logging.getLogger(__name__)

BCRYPT_COST = 12


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
        wait = Throttle._retry_after(keys)
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
        try:
            return super()._login(db, credential, user_agent_env)
        except AccessDenied as denied:
            cls._throttle_failure(denied)
            raise

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
