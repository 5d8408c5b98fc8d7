from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    security_inactive_days = fields.Integer(
        string="Inactive after (days)", default=90,
        config_parameter="security_roles.inactive_days",
        help="The access review flags users who have not logged in for this many days.")
