from odoo import fields, models


class SecurityReportScope(models.Model):
    """An out-of-scope class of report, with the reply the reporter gets."""
    _name = "security.report.scope"
    _description = "Out-of-scope class of vulnerability report"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    reply = fields.Text(
        required=True, translate=True,
        help="Sent to the reporter when a report is triaged out of scope for this reason.")
    active = fields.Boolean(default=True)
