import contextvars
import json
import logging
from datetime import timedelta

import requests

from odoo import api, fields, models

from odoo.addons.security_roles import actor

_logger = logging.getLogger(__name__)
# what an alert says is the system's; people only acknowledge it
CONTENT_FIELDS = frozenset({"name", "code", "key", "severity", "message", "webhook_status",
                            "company_id"})
_RAISING = contextvars.ContextVar("audit_trail_raising_alert", default=False)

WEBHOOK_TIMEOUT = 5  # seconds


class AuditAlert(models.Model):
    """Security alerts for the Owner and Admins: repeated failed logins, a broken
    audit chain, and whatever other modules raise (backup failed, embargo
    breached) through raise_alert()."""
    _name = "audit.alert"
    _description = "Security Alert"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True)
    code = fields.Char(required=True, readonly=True, index=True)
    key = fields.Char(readonly=True, index=True, help="What the alert is about (a login, a sequence).")
    severity = fields.Selection(
        [("info", "Info"), ("warning", "Warning"), ("critical", "Critical")],
        default="warning", required=True, readonly=True)
    message = fields.Text(readonly=True)
    state = fields.Selection([("new", "New"), ("acknowledged", "Acknowledged")],
                             default="new", required=True, tracking=True)
    webhook_status = fields.Char(readonly=True)
    company_id = fields.Many2one(
        "res.company", readonly=True, index=True,
        help="The company the alert is about (a user's failed logins): only its Admins and the "
        "Owner see it. Empty: every Admin.")

    @api.private  # the code records events; nobody over RPC
    @api.model
    def raise_alert(self, code, title, message, severity="warning", key=None, dedupe_minutes=60,
                    company=None):
        """Notify the Owner and Admins (inbox and e-mail) and the webhook, once
        per (code, key) within `dedupe_minutes`. Returns the alert. `company`:
        what the alert is about belongs to it; only its Admins (and the
        Owner) are told and see the alert."""
        # sudo: whoever triggers an alert (a failed login, a cron), its
        # recipients are the Owner and Admins, never chosen by the caller
        Alert = self.sudo()
        if key and dedupe_minutes:
            # (bounded on both sides: an alert dated in the future, planted in
            # SQL, must not silence every alert of its kind)
            now = fields.Datetime.now()
            recent = Alert.search([("code", "=", code), ("key", "=", key),
                                   ("create_date", ">=", now - timedelta(minutes=dedupe_minutes)),
                                   ("create_date", "<=", now)], limit=1)
            if recent:
                return recent
        with actor.flag(_RAISING):
            return self._raise_alert(Alert, code, title, message, severity, key, company)

    @api.model
    def _raise_alert(self, Alert, code, title, message, severity, key, company=None):
        alert = Alert.create({"name": title, "code": code, "key": key, "severity": severity,
                              "message": message, "company_id": company.id if company else False})
        recipients = Alert.env["res.users"].search([("security_role", "in", ["owner", "admin"])])
        if company:
            recipients = recipients.filtered(
                lambda user: user.security_role == "owner" or company in user.company_ids)
        if recipients:
            alert.message_notify(partner_ids=recipients.partner_id.ids, subject=title, body=message,
                                 email_layout_xmlid="mail.mail_notification_light")
        alert._post_webhook()
        # (about the alert: the event belongs to the alert's company, if any)
        Alert.env["audit.event"].log("security_event", "alert.raised", model=alert._name,
                                     res_id=alert.id,
                                     details={"code": code, "key": key, "severity": severity})
        return alert

    def _post_webhook(self):
        url = self.env["ir.config_parameter"].sudo().get_param("audit_trail.webhook_url")
        if not url:
            return
        payload = {"code": self.code, "key": self.key, "severity": self.severity,
                   "title": self.name, "message": self.message,
                   "database": self.env.cr.dbname, "alert_id": self.id}
        try:
            response = requests.post(url, data=json.dumps(payload), timeout=WEBHOOK_TIMEOUT,
                                     headers={"Content-Type": "application/json"})
            self.webhook_status = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            _logger.warning("security alert webhook failed: %s", type(exc).__name__)
            self.webhook_status = f"failed: {type(exc).__name__}"

    def write(self, vals):
        if set(vals) & CONTENT_FIELDS and not _RAISING.get() and not actor.is_server(self.env):
            self._security_refuse("write", self.env._(
                "An alert says what the system saw: it can be acknowledged, not rewritten."))
        return super().write(vals)

    def action_acknowledge(self):
        self.write({"state": "acknowledged"})
        return True
