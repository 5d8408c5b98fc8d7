import contextvars

from odoo import fields, models

from .. import actor
from ..surfaces import SECRET_PARAMS, matches

# Set while a Settings page is saved: see res.users._security_settings_apply_allows.
_SETTINGS_APPLY = contextvars.ContextVar("security_roles_settings_apply", default=False)
# What saving Settings writes on the code's behalf: feature groups implied to
# users (group_* fields), defaults (default_* fields), jobs a setting turns on.
# Owner's parameters an Admin's Settings save leaves as they are.
_SKIP_PARAMS = contextvars.ContextVar("security_roles_skip_params", default=frozenset())
SETTINGS_APPLY_MODELS = frozenset({"res.groups", "ir.default", "ir.cron"})


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    security_inactive_days = fields.Integer(
        string="Inactive after (days)", default=90,
        config_parameter="security_roles.inactive_days",
        help="The access review flags users who have not logged in for this many days.")

    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if not self.env["res.users"]._security_technical_actor():
            # secrets (API tokens, client secrets) are not shown to Admins
            for name, field in self._fields.items():
                key = getattr(field, "config_parameter", None)
                if key and name in res and matches(key, SECRET_PARAMS):
                    res[name] = False
        return res

    def execute(self):
        skip = set()
        if not self.env["res.users"]._security_technical_actor():
            skip = self._security_owner_params_unchanged()
        with actor.flag(_SETTINGS_APPLY), actor.flag(_SKIP_PARAMS, frozenset(skip)):
            return super().execute()

    def _security_owner_params_unchanged(self):
        """An Admin saves a Settings page that also shows the Owner's settings:
        those must be as they are (then they are not written), or the save is
        refused, naming them, before anything is written."""
        functional = self.env["ir.config_parameter"]._security_functional_keys()
        owner_fields = {name: field for name, field in self._fields.items()
                        if getattr(field, "config_parameter", None)
                        and field.config_parameter not in functional}
        current = self.new(self.default_get(list(owner_fields)))
        changed = [field.string for name, field in owner_fields.items()
                   if self[name] != current[name]]
        if changed:
            self._security_refuse("write", self.env._(
                "Only the Owner changes these settings: %s. Put them back and save again.",
                ", ".join(sorted(changed))))
        return {field.config_parameter for field in owner_fields.values()}
