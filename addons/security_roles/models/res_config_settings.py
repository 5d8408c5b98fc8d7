import contextvars

from odoo import fields, models

# Set while a Settings page is saved: see res.users._security_settings_apply_allows.
_SETTINGS_APPLY = contextvars.ContextVar("security_roles_settings_apply", default=False)
# What saving Settings writes on the code's behalf: feature groups implied to
# users (group_* fields), defaults (default_* fields), jobs a setting turns on.
SETTINGS_APPLY_MODELS = frozenset({"res.groups", "ir.default", "ir.cron"})


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    security_inactive_days = fields.Integer(
        string="Inactive after (days)", default=90,
        config_parameter="security_roles.inactive_days",
        help="The access review flags users who have not logged in for this many days.")
    security_technical_actor = fields.Boolean(
        compute="_compute_security_technical_actor",
        help="Whoever saves these settings may install modules and change technical settings.")

    def _compute_security_technical_actor(self):
        self.security_technical_actor = self.env["res.users"]._security_technical_actor()

    def execute(self):
        token = _SETTINGS_APPLY.set(True)
        try:
            return super().execute()
        finally:
            _SETTINGS_APPLY.reset(token)
