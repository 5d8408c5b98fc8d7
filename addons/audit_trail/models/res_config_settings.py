from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    audit_webhook_url = fields.Char(
        string="Alert webhook", config_parameter="audit_trail.webhook_url",
        help="Security alerts are POSTed here as JSON (5 s timeout).")
    audit_failed_login_threshold = fields.Integer(
        string="Failed logins before an alert", default=5,
        config_parameter="audit_trail.failed_login_threshold")
    audit_failed_login_window = fields.Integer(
        string="Within (minutes)", default=10, config_parameter="audit_trail.failed_login_window")
