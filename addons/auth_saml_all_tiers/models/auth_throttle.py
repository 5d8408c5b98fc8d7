import dataclasses
import logging
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from odoo.addons.security_roles import actor

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
    def _counters(self, keys):
        """[(kind, failures, last_failure, locked_until)] of the counters these
        (kind, key) pairs have (keys: not empty)."""
        self.env.cr.execute(SQL(
            "SELECT kind, failures, last_failure, locked_until FROM auth_throttle"
            " WHERE (kind, key) IN %s", tuple(keys)))
        return self.env.cr.fetchall()

    @api.model
    def _retry_after(self, keys):
        """Seconds before an attempt through these (kind, key) counters may be
        checked. The check of the two-factor throttle, whose attempts are
        counted after the fact (_record_failure, _record_success); a password
        attempt is reserved instead (_reserve, _settle)."""
        keys = [(kind, key) for kind, key in keys if key]
        if not keys:
            return 0
        rows = self._counters(keys)
        now = datetime.utcnow()
        return max([throttle.retry_after(failures, last, locked, now, self._policy(kind))
                    for kind, failures, last, locked in rows], default=0)

    @api.model
    def _reserve(self, keys):
        """Before a password is checked: the seconds to wait (the attempt is
        then refused unchecked, and not counted), or 0 once the attempt is
        counted as a failure in advance. Concurrent attempts through the same
        counters are serialised here (transaction-level advisory locks, in key
        order), and each one sees those still being checked: a burst of
        simultaneous guesses gets no more checks than the limits allow. The
        caller settles the attempt once its outcome is known (_settle).
        Commit this cursor before checking the password."""
        keys = sorted({(kind, key) for kind, key in keys if key})
        if not keys:
            return 0
        for kind, key in keys:
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                                    f"auth_throttle:{kind}:{key}"))
        rows = self._counters(keys)
        now = datetime.utcnow()
        wait = 0
        for kind, failures, last, locked in rows:
            policy = self._policy(kind)
            wait = max(wait, throttle.retry_after(failures, last, locked, now, policy))
            if throttle.locks(failures, policy) and not locked and last \
                    and now - last < timedelta(minutes=policy.window_minutes):
                # reached by attempts still being checked: locked once they fail
                wait = max(wait, policy.lockout_minutes * 60)
        if wait:
            return wait
        for kind, key in keys:
            self._count(kind, key)
        return 0

    @api.model
    def _settle(self, keys, failed):
        """The outcome of an attempt _reserve counted: a failure locks the
        counters that reached their limit; a success forgets the failures of
        its login from its source (or device) and takes its own count back
        from the others (an attacker cannot reset those by logging in as
        someone else, or from a device of the user's)."""
        keys = [(kind, key) for kind, key in keys if key]
        if failed:
            return self._lock_reached(keys)
        for kind, key in keys:
            if kind == "login_source":
                self.env.cr.execute(SQL(
                    "DELETE FROM auth_throttle WHERE kind = %s AND key = %s", kind, key))
            else:
                self.env.cr.execute(SQL(
                    "UPDATE auth_throttle SET failures = GREATEST(failures - 1, 0)"
                    " WHERE kind = %s AND key = %s", kind, key))
        return []

    @api.model
    def _count(self, kind, key):
        """One more failure on a counter (a quiet window starts it over).
        Returns (failures, locked_until)."""
        policy = self._policy(kind)
        self.env.cr.execute(SQL("""
            INSERT INTO auth_throttle (kind, key, failures, last_failure)
            VALUES (%(kind)s, %(key)s, 1, clock_timestamp() at time zone 'utc')
            ON CONFLICT (kind, key) DO UPDATE SET
                failures = CASE WHEN auth_throttle.last_failure
                                     < (clock_timestamp() at time zone 'utc') - %(window)s
                                THEN 1 ELSE auth_throttle.failures + 1 END,
                last_failure = clock_timestamp() at time zone 'utc'
            RETURNING failures, locked_until
        """, kind=kind, key=key, window=timedelta(minutes=policy.window_minutes)))
        return self.env.cr.fetchone()

    @api.model
    def _lock_reached(self, keys):
        """Lock the counters that reached their limit and are not locked yet;
        audit and alert those. Returns [(kind, key, failures)] newly locked."""
        newly_locked = []
        for kind, key in keys:
            policy = self._policy(kind)
            if policy.lockout_after <= 0:
                continue
            self.env.cr.execute(SQL(
                "UPDATE auth_throttle SET locked_until = (clock_timestamp() at time zone 'utc') + %s"
                " WHERE kind = %s AND key = %s AND failures >= %s AND (locked_until IS NULL"
                " OR locked_until < clock_timestamp() at time zone 'utc') RETURNING failures",
                timedelta(minutes=policy.lockout_minutes), kind, key, policy.lockout_after))
            row = self.env.cr.fetchone()
            if row:
                newly_locked.append((kind, key, row[0]))
        if newly_locked:
            self._on_lockout(newly_locked)
        return newly_locked

    @api.model
    def _record_failure(self, keys):
        """Count a failure for each key after the fact (two-factor codes),
        atomically (concurrent workers add up), and lock the keys that reach
        the lockout threshold, on this environment's cursor. Returns the keys
        that became locked."""
        keys = [(kind, key) for kind, key in keys if key]
        for kind, key in keys:
            self._count(kind, key)
        return self._lock_reached(keys)

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
        """Forget the failures of these counters. Admins unlock, except the
        Owner's counters (an Admin clearing them would open the Owner's
        password to guessing again): those are the Owner's. Audited."""
        # a method anyone could call by RPC: the check comes first, on the
        # principal (not env.uid, which code may have switched)
        Users = self.env["res.users"]
        # sudo: the acting user's role, whoever may read users
        role = Users.sudo().browse(actor.acting_uid(self.env)).security_role
        if not Users._security_technical_actor() and role not in ("owner", "admin"):
            raise AccessError(self.env._("Only Admins can unlock logins."))
        rows = self.sudo()  # sudo: counters have no owner (ACL: Admins read only)
        if not Users._security_actor_is_owner():
            owners = Users.sudo().browse(self.env["res.groups"]._security_owner_ids())
            logins = {throttle.login_key(login) for login in owners.mapped("login")}
            ids = {str(uid) for uid in owners.ids}
            owners_rows = rows.filtered(lambda row: (
                row.key in ids if row.kind == "totp" else
                (throttle.pair_login(row.key) if row.kind == "login_source" else row.key)
                in logins))
            if owners_rows:
                raise AccessError(self.env._(
                    "Only the Owner can unlock the Owner's login (%s).", owners_rows[0].key))
        details = [{"kind": row.kind, "key": row.key, "failures": row.failures} for row in rows]
        rows.unlink()
        if "audit.event" in self.env:  # audit_trail is optional
            self.env["audit.event"].log(
                "security_event", "login.unlock", outcome="success",
                details={"counters": details})
        return True

    @api.autovacuum
    def _gc_quiet_counters(self):
        self.env.cr.execute(
            "DELETE FROM auth_throttle WHERE last_failure < (clock_timestamp() at time zone 'utc') - interval '1 day'"
            " AND (locked_until IS NULL OR locked_until < clock_timestamp() at time zone 'utc')")
