import contextlib
import math
import time

import pyotp

from odoo import fields, models
from odoo.exceptions import AccessDenied
from odoo.tools import SQL

TIMESTEP = 30


def matched_counter(secret_b32, code, now=None, window=1):
    """The time step whose TOTP code is `code` (within ±window steps), or None."""
    totp = pyotp.TOTP(secret_b32, interval=TIMESTEP)
    now = time.time() if now is None else now
    code = str(code).zfill(totp.digits)
    for offset in range(-window, window + 1):
        if totp.at(now, counter_offset=offset) == code:
            return int(now // TIMESTEP) + offset
    return None


class ResUsers(models.Model):
    _inherit = "res.users"

    totp_last_counter = fields.Integer(groups=fields.NO_ACCESS, copy=False,
                                       help="Time step of the last accepted code.")

    @contextlib.contextmanager
    def _totp_throttle(self):
        """Second-factor attempts of this account (TOTP codes, recovery codes,
        enrolment): refused while throttled, a refusal (AccessDenied) inside
        counts as a failure, the rest as a success. Counted in the database, so
        every worker sees the same counts."""
        self.ensure_one()
        Throttle = self.env["auth.throttle"].sudo()  # sudo: counters belong to no user
        keys = [("totp", str(self.id))]
        wait = Throttle._retry_after(keys)
        if wait:
            raise AccessDenied(self.env._(
                "Too many wrong codes. Try again in %s seconds.", math.ceil(wait)))
        try:
            yield
        except AccessDenied:
            Throttle._record_failure(keys)  # the login form catches the refusal: it commits
            raise
        Throttle._record_success(str(self.id), kind="totp")

    def _totp_check(self, code):
        """Core's check, plus: wrong codes are throttled per account (in the
        database), and a code is accepted once: a step at or before the last
        accepted one is refused, atomically across workers."""
        with self._totp_throttle():
            super()._totp_check(code)
            secret = self.sudo().totp_secret  # sudo: the secret is readable by nobody
            counter = matched_counter(secret, code)
            self.env.cr.execute(SQL(
                "UPDATE res_users SET totp_last_counter = %s WHERE id = %s"
                " AND (totp_last_counter IS NULL OR totp_last_counter < %s)",
                counter, self.id, counter))
            if counter is None or not self.env.cr.rowcount:
                raise AccessDenied(self.env._(
                    "This code was already used. Wait for the next one in your app."))
            self.invalidate_recordset(["totp_last_counter"])
        self._throttle_issue_device(self)  # the login is complete: a known device

    def _totp_remember_code(self, code):
        """After enrolment: the code just used to confirm the authenticator
        cannot log in a second time."""
        self.ensure_one()
        counter = matched_counter(self.sudo().totp_secret, code)  # sudo: readable by nobody
        if counter is not None:
            self.env.cr.execute(SQL(
                "UPDATE res_users SET totp_last_counter = GREATEST(COALESCE(totp_last_counter,"
                " 0), %s) WHERE id = %s", counter, self.id))
            self.invalidate_recordset(["totp_last_counter"])
