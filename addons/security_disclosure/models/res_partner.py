from odoo import api, fields, models

from .team import refuse, team_decides

# Changing one of these on a recipient would send the next advisory elsewhere
# (another address, another company's contact list).
RECIPIENT_FIELDS = ("email", "parent_id", "advisory_subscriber", "advisory_contract_end",
                    "advisory_recipient")


class ResPartner(models.Model):
    _inherit = "res.partner"

    advisory_subscriber = fields.Boolean(
        string="Advisory subscriber", groups="security_disclosure.group_security_team",
        copy=False,
        help="Its contacts marked as advisory recipients receive private security advisories "
        "under embargo while the contract runs.")
    advisory_contract_end = fields.Date(
        string="Advisory contract end", groups="security_disclosure.group_security_team",
        copy=False,
        help="Last day on which this partner's recipients receive private advisories.")
    advisory_recipient = fields.Boolean(
        string="Receives private advisories", groups="security_disclosure.group_security_team",
        copy=False,
        help="Set by the Security team only: this contact (of a subscriber, or the subscriber "
        "itself) receives private advisories at its e-mail address. A new contact under a "
        "subscriber receives nothing until the team marks it.")

    # Who receives private advisories is known to, and decided by, the Security team only.

    @api.model
    def _security_advisory_recipients(self, on_date=None):
        """Contacts the team marked as recipients, with an e-mail address, of
        subscribers whose contract still runs on `on_date`."""
        on_date = on_date or fields.Date.context_today(self)
        subscribers = self.search([("advisory_subscriber", "=", True),
                                   ("advisory_contract_end", ">=", on_date)])
        if not subscribers:
            return self.browse()
        return self.search([("id", "child_of", subscribers.ids), ("email", "!=", False),
                            ("advisory_recipient", "=", True)])

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get(f) for vals in vals_list for f in RECIPIENT_FIELDS[2:]):
            self._security_check_recipient_change("create")
        return super().create(vals_list)

    def write(self, vals):
        # sudo: whether a contact receives advisories is the team's secret; it
        # is only tested here, never returned
        if set(RECIPIENT_FIELDS) & set(vals) and self.sudo().filtered(
                lambda p: p.advisory_recipient or p.advisory_subscriber):
            self._security_check_recipient_change()
        return super().write(vals)

    def _security_check_recipient_change(self, operation="write"):
        if not team_decides(self.env):
            refuse(self, self.env._(
                "This contact receives private security advisories: its e-mail address and "
                "company are changed by an Admin of the Security team only. Ask one."), operation)
