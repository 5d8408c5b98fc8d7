import contextvars

from odoo import models

from odoo.addons.security_roles import actor

from .audit_alert import _RAISING

ALERT_MODEL = "audit.alert"
# Set while Odoo sends mails: what it writes and deletes then is delivery.
_SENDING = contextvars.ContextVar("audit_trail_sending_mail", default=False)


class AlertDelivery(models.AbstractModel):
    """The messages and e-mails that deliver an alert to the Owner and Admins
    are the system's: nobody recalls, redirects or deletes them before they
    reach their recipients (a hostile Admin holds mail administration)."""
    _name = "audit.alert.delivery"
    _description = "Delivery of security alerts"
    _alert_free_fields = frozenset()

    def _audit_check_alert_delivery(self, operation, vals=None):
        if _SENDING.get() or _RAISING.get() or actor.is_server(self.env):
            return
        if vals is not None and set(vals) <= self._alert_free_fields:
            return
        # sudo: which document a mail belongs to decides, whoever may read it
        if not any(model == ALERT_MODEL for model in self.sudo().mapped("model")):
            return
        if self.env["res.users"]._security_technical_actor(use=(self._name, operation)):
            return
        self._security_refuse(operation, self.env._(
            "This message delivers a security alert to the Owner and Admins: it cannot be "
            "changed or deleted."))

    def write(self, vals):
        if self:
            self._audit_check_alert_delivery("write", vals)
        return super().write(vals)

    def unlink(self):
        if self:
            self._audit_check_alert_delivery("unlink")
        return super().unlink()


class MailMessage(models.Model):
    _name = "mail.message"
    _inherit = ["mail.message", "audit.alert.delivery"]
    # a reader's own marks
    _alert_free_fields = frozenset({"starred_partner_ids"})


class MailMail(models.Model):
    _name = "mail.mail"
    _inherit = ["mail.mail", "audit.alert.delivery"]

    def send(self, *args, **kwargs):
        # sending, or recording that it failed (no mail server reachable)
        with actor.flag(_SENDING):
            return super().send(*args, **kwargs)

    def _send(self, *args, **kwargs):
        with actor.flag(_SENDING):
            return super()._send(*args, **kwargs)
