from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    advisory_subscriber = fields.Boolean(
        string="Advisory subscriber", groups="security_disclosure.group_security_team",
        copy=False,
        help="Receives private security advisories under embargo, with its contacts, "
        "while the contract runs.")
    advisory_contract_end = fields.Date(
        string="Advisory contract end", groups="security_disclosure.group_security_team",
        copy=False,
        help="Last day on which this partner (and its contacts) receive private advisories.")

    # Who receives private advisories is known to the Security team only.

    @api.model
    def _security_advisory_recipients(self, on_date=None):
        """Subscribers whose contract still runs on `on_date`, and their
        contacts, with an e-mail address."""
        on_date = on_date or fields.Date.context_today(self)
        subscribers = self.search([("advisory_subscriber", "=", True),
                                   ("advisory_contract_end", ">=", on_date)])
        if not subscribers:
            return self.browse()
        return self.search([("id", "child_of", subscribers.ids), ("email", "!=", False)])
