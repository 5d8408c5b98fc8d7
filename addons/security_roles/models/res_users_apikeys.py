import hashlib
import logging
import time
from datetime import timezone

import psycopg2.errors

from odoo import api, fields, models, tools
from odoo.exceptions import AccessDenied, AccessError
from odoo.http import request
from odoo.tools import SQL

from odoo.addons.base.models.res_users import INDEX_SIZE, KEY_CRYPT_CONTEXT

from ..actor import rpc_principal
from ..roles import API_KEY_SCOPES
from .cursors import independent_cursor

_logger = logging.getLogger(__name__)

SCOPE_SELECTION = [("read", "Read only"), ("full", "Full access")]
LAST_USE_PRECISION = 60  # seconds: "last use" is written at most once a minute per key
_last_use_written = {}


def read_only_key_in_use():
    """The current call authenticated with a key that is not a full-access
    one. An unknown scope never authenticates (_security_use_key)."""
    if request:
        scope = getattr(request, "security_roles_key_scope", None)
    else:
        rpc = rpc_principal()
        scope = rpc[1] if rpc else None
    return scope is not None and scope != "full"


class ResUsersApikeys(models.Model):
    _inherit = "res.users.apikeys"
    _security_credential_owner = "user_id"

    security_scope = fields.Selection(SCOPE_SELECTION, string="Access", readonly=True)
    security_last_use = fields.Datetime(string="Last Use", readonly=True)

    def init(self):
        res = super().init()
        # existing keys, and keys other modules generate, keep today's full access
        self.env.cr.execute(SQL(
            "ALTER TABLE %s ADD COLUMN IF NOT EXISTS security_scope varchar NOT NULL DEFAULT 'full',"
            " ADD COLUMN IF NOT EXISTS security_last_use timestamp",
            SQL.identifier(self._table)))
        return res

    def unlink(self):
        res = super().unlink()
        # revoked keys must stop working now, in every worker: res.users.check()
        # and _security_key_info() cache keys by value
        self.env.registry.clear_cache()
        return res

    def _generate(self, scope, name, expiration_date):
        # a key is minted for env.user: someone else's code may have chosen it
        # with with_user(); the principal must be that user or dominate them
        self.env.user._security_check_credential_change(self._description)
        access = self.env.context.get("security_key_scope")
        if scope is None:
            is_viewer = self.env.user.security_role == "viewer"
            access = access or ("read" if is_viewer else "full")
            if access not in API_KEY_SCOPES:
                raise AccessError(self.env._("Unknown API key scope %r: use read or full.", access))
            if is_viewer and access != "read":
                raise AccessError(self.env._("Viewers can only create read-only API keys."))
        key = super()._generate(scope, name, expiration_date)
        if scope is None:
            self.env.cr.execute(SQL(
                "UPDATE %s SET security_scope = %s WHERE id = ("
                " SELECT max(id) FROM %s WHERE user_id = %s AND index = %s)",
                SQL.identifier(self._table), access, SQL.identifier(self._table),
                self.env.uid, key[:INDEX_SIZE]))
        return key

    # ------------------------------------------------------------------
    # Scope of the key used by the current call
    # ------------------------------------------------------------------
    @api.model
    def _security_use_key(self, uid, key):
        """The access scope ('read'/'full') of the RPC key `key` of user `uid`,
        or None when `key` is not such a key (a password). Records its use."""
        if not key or len(key) < INDEX_SIZE:
            return None
        digest = hashlib.sha256(key.encode()).hexdigest()
        info = self._security_key_info(digest, key)
        if not info or info[1] != uid:
            return None
        key_id, _uid, scope, expiry = info
        if expiry and expiry < time.time():
            raise AccessDenied()  # cached validity must not outlive the expiry date
        if scope not in API_KEY_SCOPES:
            # a scope this suite does not know grants nothing, not full access
            _logger.warning("API key %s of user %s has an unknown scope: refused", key_id, uid)
            raise AccessDenied()
        self._security_touch_last_use(key_id)
        return scope

    @tools.ormcache("digest")
    def _security_key_info(self, digest, key):
        rows = self.env.execute_query(SQL(
            "SELECT k.id, k.user_id, k.key, k.security_scope, k.expiration_date"
            "  FROM %s k JOIN res_users u ON u.id = k.user_id"
            " WHERE u.active AND k.index = %s AND k.scope IS NULL",
            SQL.identifier(self._table), key[:INDEX_SIZE]))
        for key_id, user_id, hashed, scope, expiry in rows:
            if KEY_CRYPT_CONTEXT.verify(key, hashed):
                return key_id, user_id, scope, expiry and expiry.replace(tzinfo=timezone.utc).timestamp()
        return None

    @api.model
    def _security_touch_last_use(self, key_id):
        now = time.time()
        if now - _last_use_written.get((self.env.cr.dbname, key_id), 0) < LAST_USE_PRECISION:
            return
        # its own cursor: the calling transaction may be read-only or fail.
        # Best effort: a call of the same key in another worker writing it at
        # the same moment wins (the call itself must never fail for this)
        try:
            with independent_cursor(self.env) as cr:
                if cr is None:
                    return
                _last_use_written[(self.env.cr.dbname, key_id)] = now
                cr.execute(SQL(
                    "UPDATE %(table)s SET security_last_use = now() at time zone 'utc'"
                    " WHERE id = (SELECT id FROM %(table)s WHERE id = %(id)s"
                    " FOR UPDATE SKIP LOCKED)", table=SQL.identifier(self._table), id=key_id))
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
            _logger.debug("API key %s: its last use is being written by another call", key_id)
