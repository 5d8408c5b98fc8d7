import dataclasses
import logging
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..lib import throttle

_logger = logging.getLogger(__name__)

POLICY_DEFAULTS = {"login_source": throttle.LOGIN_SOURCE_DEFAULTS, "ip": throttle.SOURCE_DEFAULTS,
                   "login": throttle.LOGIN_DEFAULTS, "totp": throttle.TOTP_DEFAULTS}


class AuthThrottle(models.Model):
    """Failed password checks per (login, source), per source and per login,
    and wrong two-factor codes per account (see lib/throttle.py), in the
    database so that every worker of every server sees the same counts."""
    _name = "auth.throttle"
    _description = "Login Throttling"
    _order = "last_failure desc"
    _log_access = False

    kind = fields.Selection([("login_source", "Login from one source"),
                             ("ip", "Source (address)"),
                             ("login", "Login, from unknown devices"),
                             ("totp", "Two-factor codes (user id)")], required=True, readonly=True)
    key = fields.Char(required=True, readonly=True)
    failures = fields.Integer(readonly=True)
    last_failure = fields.Datetime(readonly=True)
    locked_until = fields.Datetime(readonly=True)
    locked = fields.Boolean(compute="_compute_locked")

    _sql_constraints = [("kind_key_uniq", "unique(kind, key)", "One counter per login or address.")]

    def _compute_locked(self):
        now = fields.Datetime.now()
        for row in self:
            row.locked = bool(row.locked_until and row.locked_until > now)

    @api.model
    def _policy(self, kind):
        get = self.env["ir.config_parameter"].sudo().get_param
        policy = throttle.Policy.from_params(get, f"auth_throttle.{kind}", POLICY_DEFAULTS[kind])
        if kind == "ip":
            # core's cooldown settings: after that many failures from one
            # source, delays growing up to that many seconds (0: no slowdown)
            after = int(get("base.login_cooldown_after", policy.free) or 0)
            policy = dataclasses.replace(
                policy, free=after or throttle.NEVER,
                max_delay=int(get("base.login_cooldown_duration", policy.max_delay) or 0))
        return policy

    @api.model
    def _state(self, keys):
        """(seconds before an attempt through these (kind, key) counters may be
        checked, the (kind, key) pairs that have a counter)"""
        keys = [(kind, key) for kind, key in keys if key]
        if not keys:
            return 0, set()
        self.env.cr.execute(SQL(
            "SELECT kind, key, failures, last_failure, locked_until FROM auth_throttle"
            " WHERE (kind, key) IN %s", tuple(keys)))
        rows = self.env.cr.fetchall()
        now = datetime.utcnow()
        wait = max([throttle.retry_after(failures, last, locked, now, self._policy(kind))
                    for kind, _key, failures, last, locked in rows], default=0)
        return wait, {(kind, key) for kind, key, *_rest in rows}

    @api.model
    def _retry_after(self, keys):
        """Seconds before an attempt for these (kind, key) pairs may be checked."""
        return self._state(keys)[0]

    @api.model
    def _record_failure(self, keys):
        """Count a failure for each key, atomically (concurrent workers add up),
        and lock the keys that reach the lockout threshold. Runs on a cursor of
        its own, committed whatever became of the failed login's transaction.
        Returns the keys that became locked."""
        cr = self.env.cr
        newly_locked = []
        for kind, key in keys:
            if not key:
                continue
            policy = self._policy(kind)
            cr.execute(SQL("""
                INSERT INTO auth_throttle (kind, key, failures, last_failure)
                VALUES (%(kind)s, %(key)s, 1, clock_timestamp() at time zone 'utc')
                ON CONFLICT (kind, key) DO UPDATE SET
                    failures = CASE WHEN auth_throttle.last_failure
                                         < (clock_timestamp() at time zone 'utc') - %(window)s
                                    THEN 1 ELSE auth_throttle.failures + 1 END,
                    last_failure = clock_timestamp() at time zone 'utc'
                RETURNING failures, locked_until
            """, kind=kind, key=key, window=timedelta(minutes=policy.window_minutes)))
            failures, locked_until = cr.fetchone()
            if throttle.locks(failures, policy) and not (
                    locked_until and locked_until > datetime.utcnow()):
                cr.execute(SQL(
                    "UPDATE auth_throttle SET locked_until = (clock_timestamp() at time zone 'utc') + %s"
                    " WHERE kind = %s AND key = %s",
                    timedelta(minutes=policy.lockout_minutes), kind, key))
                newly_locked.append((kind, key, failures))
        if newly_locked:
            self._on_lockout(newly_locked)
        return newly_locked

    @api.model
    def _record_success(self, key, kind="login_source"):
        """A success forgets that key's failures (not its source's, nor the
        login's from everywhere: an attacker cannot reset those by logging in
        as someone else, or from a device of the user's)."""
        if key:
            self.env.cr.execute(SQL("DELETE FROM auth_throttle WHERE kind = %s AND key = %s",
                                    kind, key))

    @api.model
    def _on_lockout(self, locked):
        for kind, key, failures in locked:
            _logger.warning("login lockout for %s %s after %d failures", kind, key, failures)
            if "audit.event" in self.env:  # audit_trail is optional
                self.env["audit.event"].log(
                    "security_event", "login.lockout", outcome="failure",
                    login=throttle.pair_login(key) if kind == "login_source" else None,
                    details={"kind": kind, "key": key, "failures": failures}, immediate=False)
                self.env["audit.event"]._flush_buffer()
                minutes = self._policy(kind).lockout_minutes
                if kind == "totp":
                    body = self.env._(
                        "The two-factor codes of user #%(key)s are locked for %(minutes)s minutes "
                        "after %(n)s wrong codes.", key=key, minutes=minutes, n=failures)
                else:
                    body = self.env._(
                        "%(key)s is locked for %(minutes)s minutes after %(n)s failed passwords. "
                        "The same login from other addresses, from known devices, with single "
                        "sign-on or with an API key is not affected.",
                        key=key, minutes=minutes, n=failures)
                self.env["audit.alert"].raise_alert(
                    "login_lockout", self.env._("Login locked: %s", key), body,
                    key=f"{kind}:{key}")

    def action_unlock(self):
        # a method anyone could call by RPC: the Admin check comes first
        if not self.env.user.has_group("security_roles.group_role_admin"):
            raise AccessError(self.env._("Only Admins can unlock logins."))
        self.sudo().unlink()  # sudo: counters have no owner (ACL: Admins read only)
        return True

    @api.autovacuum
    def _gc_quiet_counters(self):
        self.env.cr.execute(
            "DELETE FROM auth_throttle WHERE last_failure < (clock_timestamp() at time zone 'utc') - interval '1 day'"
            " AND (locked_until IS NULL OR locked_until < clock_timestamp() at time zone 'utc')")
