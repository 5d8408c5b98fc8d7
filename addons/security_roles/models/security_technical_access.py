import contextvars
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .. import actor

# set only by this model's own flow (revoke, end, first use): not a context key
_BOOKKEEPING = contextvars.ContextVar("security_roles_grant_bookkeeping", default=False)
MAX_HOURS_PARAM = "security_roles.technical_access_max_hours"
DEFAULT_MAX_HOURS = 8


class SecurityTechnicalAccess(models.Model):
    """The Owner lends one Admin the technical surfaces for a while: code,
    security definitions, modules, mail routing, authentication providers and
    system parameters. Running grants are found by time alone, so a grant ends
    by itself; the scheduled action only announces the end."""
    _name = "security.technical.access"
    _description = "Technical Access"
    _inherit = ["mail.thread"]
    _order = "date_start desc, id desc"
    _rec_name = "user_id"

    user_id = fields.Many2one(
        "res.users", string="Admin", required=True, readonly=True, index=True,
        domain="[('security_role', '=', 'admin'), ('share', '=', False)]",
        help="While the access runs, this Admin can do what the Owner can on the "
             "technical surfaces.")
    reason = fields.Text(required=True, readonly=True)
    duration_hours = fields.Float(string="Duration (hours)", required=True, default=1.0,
                                  readonly=True)
    date_start = fields.Datetime(string="Starts", readonly=True)
    date_end = fields.Datetime(string="Ends", readonly=True)
    revoked_at = fields.Datetime(string="Revoked", readonly=True)
    revoked_by_id = fields.Many2one("res.users", string="Revoked By", readonly=True)
    first_use_at = fields.Datetime(string="First Used", readonly=True)
    end_announced = fields.Boolean(readonly=True)
    state = fields.Selection(
        [("running", "Running"), ("ended", "Ended"), ("revoked", "Revoked")],
        compute="_compute_state", search="_search_state")

    @api.depends("date_end", "revoked_at")
    def _compute_state(self):
        now = fields.Datetime.now()
        for grant in self:
            grant.state = ("revoked" if grant.revoked_at
                           else "running" if grant.date_end and grant.date_end > now
                           else "ended")

    def _search_state(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on State: %s", operator))
        now = fields.Datetime.now()
        domain = {"revoked": [("revoked_at", "!=", False)],
                  "running": [("revoked_at", "=", False), ("date_end", ">", now)],
                  "ended": [("revoked_at", "=", False), ("date_end", "<=", now)]}[value]
        return domain if operator == "=" else ["!", *domain]

    # ------------------------------------------------------------------
    @api.model
    def _security_max_hours(self):
        # sudo: the limit is a system parameter everyone's grants are checked against
        value = self.env["ir.config_parameter"].sudo().get_param(MAX_HOURS_PARAM)
        try:
            return float(value) if value else DEFAULT_MAX_HOURS
        except ValueError:
            return DEFAULT_MAX_HOURS

    def _security_check_owner(self):
        # the Owner in person: not server code, which also runs the mail gateway
        if not self.env["res.users"]._security_actor_is_owner():
            self._security_refuse("write", self.env._(
                "Only the Owner grants technical access (an Admin with technical access "
                "cannot grant or extend it)."))

    @api.model_create_multi
    def create(self, vals_list):
        self._security_check_owner()
        max_hours = self._security_max_hours()
        now = fields.Datetime.now()
        for vals in vals_list:
            user = self.env["res.users"].sudo().browse(vals.get("user_id"))
            if not user.exists() or user.share or user.security_role != "admin" or not user.active:
                raise UserError(self.env._("Technical access is granted to an active Admin."))
            if not (vals.get("reason") or "").strip():
                raise UserError(self.env._("Say why technical access is needed."))
            hours = vals.get("duration_hours") or 0
            if not 0 < hours <= max_hours:
                raise UserError(self.env._(
                    "Technical access lasts more than 0 and at most %(max)s hours.",
                    max=max_hours))
            vals.update(date_start=now, date_end=now + timedelta(hours=hours),
                        revoked_at=False, revoked_by_id=False, first_use_at=False,
                        end_announced=False)
        if self.search_count([("state", "=", "running")]) or len(vals_list) > 1:
            raise UserError(self.env._(
                "One Admin at a time: revoke the running technical access first."))
        grants = super(SecurityTechnicalAccess, self.with_context(
            mail_create_nolog=True)).create(vals_list)
        for grant in grants:
            grant._security_announce("technical_access.grant", self.env._(
                "Technical access granted to %(user)s until %(end)s (UTC). Reason: %(reason)s",
                user=grant.user_id.name, end=grant.date_end, reason=grant.reason))
        return grants

    def write(self, vals):
        # a grant is fixed once made (revoke it and grant another); only this
        # model's own bookkeeping writes, and the chatter's followers, change it
        if not _BOOKKEEPING.get() and not actor.is_server(self.env) \
                and set(vals) - {"message_follower_ids", "message_main_attachment_id"}:
            self._security_refuse("write", self.env._(
                "A technical access cannot be changed: revoke it and grant a new one."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        if not actor.is_server(self.env):
            raise AccessError(self.env._("Technical access records are kept as history."))

    # ------------------------------------------------------------------
    def action_revoke(self):
        """The Owner revokes; the Admin may end their own access early."""
        principal = actor.acting_uid(self.env)
        for grant in self.filtered(lambda g: g.state == "running"):
            if principal != grant.user_id.id and not (
                    actor.is_server(self.env) or self.env["res.users"]._security_actor_is_owner()):
                raise AccessError(self.env._(
                    "Only the Owner, or the Admin it was granted to, ends a technical access."))
            # sudo: bookkeeping fields of the grant, set only here
            grant._security_bookkeeping_write({
                "revoked_at": fields.Datetime.now(), "revoked_by_id": principal or False})
            grant._security_announce("technical_access.revoke", self.env._(
                "Technical access of %(user)s ended by %(by)s.",
                user=grant.user_id.name, by=self.env["res.users"].sudo().browse(principal).name))
        return True

    @api.model
    def _cron_announce_ended(self):
        """Announce (audit, alert) the grants that ran out."""
        now = fields.Datetime.now()
        ended = self.sudo().search([("end_announced", "=", False), ("revoked_at", "=", False),
                                    ("date_end", "<=", now)])
        for grant in ended:
            grant._security_bookkeeping_write(
                {"end_announced": True})
            grant._security_announce("technical_access.end", self.env._(
                "Technical access of %(user)s ended at %(end)s (UTC).",
                user=grant.user_id.name, end=grant.date_end))

    # ------------------------------------------------------------------
    @api.model
    def _security_active_grant(self, uid):
        """The running grant of user `uid` (a record, sudo), or an empty one."""
        self.env.cr.execute(SQL(
            "SELECT id FROM security_technical_access WHERE user_id = %s AND revoked_at IS NULL"
            " AND date_start <= %s AND date_end > %s ORDER BY id DESC LIMIT 1",
            uid, fields.Datetime.now(), fields.Datetime.now()))
        row = self.env.cr.fetchone()
        return self.sudo().browse(row[0]) if row else self.sudo().browse()

    def _security_record_use(self, model_name, operation):
        """self: the running grant that allowed a technical change. Each kind of
        change is audited once per transaction; the first use alerts the Owner."""
        seen = self.env.cr.cache.setdefault("security_roles_technical_use", set())
        if (self.id, model_name, operation) in seen:
            return
        seen.add((self.id, model_name, operation))
        self._security_audit("technical_access.use", {"model": model_name,
                                                      "operation": operation})
        if not self.first_use_at:
            self._security_bookkeeping_write(
                {"first_use_at": fields.Datetime.now()})
            self._security_notify_owner(self.env._(
                "%(user)s started using technical access: %(operation)s on %(model)s.",
                user=self.user_id.name, operation=operation, model=model_name))

    def _security_bookkeeping_write(self, vals):
        with actor.flag(_BOOKKEEPING):
            # sudo: fields no user writes, set by this model's own flow
            self.sudo().write(vals)

    def _security_announce(self, action, message):
        self._security_audit(action, {"reason": self.reason, "until": str(self.date_end)})
        self._security_notify_owner(message)

    def _security_audit(self, action, details):
        if "audit.event" in self.env:
            # sudo: recorded whoever triggers it
            self.env["audit.event"].sudo().log(
                "security_event", action, model=self._name, res_id=self.id,
                res_name=self.user_id.name, details=details)

    def _security_notify_owner(self, body):
        owners = self.env["res.users"].sudo().browse(
            sorted(self.env["res.groups"]._security_owner_ids()))
        # sudo: the alert reaches the Owner whoever's action caused it
        self.sudo().message_post(body=body, partner_ids=owners.partner_id.ids,
                                 message_type="notification", subtype_xmlid="mail.mt_note")
