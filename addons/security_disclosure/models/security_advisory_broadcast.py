from odoo import fields, models
from odoo.exceptions import UserError

from .team import check_team_role


class SecurityAdvisoryBroadcast(models.TransientModel):
    """The Admin reads the list of recipients before the broadcast; the
    advisory goes to exactly that list, and the broadcast is refused if the
    list changed in between."""
    _name = "security.advisory.broadcast"
    _description = "Confirm the recipients of a private broadcast"

    advisory_id = fields.Many2one("security.advisory", required=True, readonly=True,
                                  ondelete="cascade")
    partner_ids = fields.Many2many("res.partner", string="Recipients", readonly=True)
    recipient_count = fields.Integer(compute="_compute_recipient_count")

    def _compute_recipient_count(self):
        for wizard in self:
            wizard.recipient_count = len(wizard.partner_ids)

    def action_confirm(self):
        self.ensure_one()
        check_team_role(self, "admin", self.env._("broadcast advisories"))
        current = self.env["res.partner"]._security_advisory_recipients()
        if current != self.partner_ids:
            raise UserError(self.env._(
                "The list of recipients changed since you opened it: close this window and "
                "broadcast again to review the new list."))
        self.advisory_id._broadcast(current)
        return {"type": "ir.actions.act_window_close"}
