import contextvars
import logging

from odoo import api, models
from odoo.exceptions import AccessError
from odoo.osv import expression
from odoo.tools import SQL

from .. import actor
from .res_config_settings import _SKIP_PARAMS
from ..surfaces import SECRET_PARAMS, functional_params, matches

_logger = logging.getLogger(__name__)

_GUESSING_BASE_URL = contextvars.ContextVar("security_roles_guessing_base_url", default=False)


def _guessing_base_url():
    return actor.flag(_GUESSING_BASE_URL)


class IrConfigParameter(models.Model):
    """System parameters are the Owner's, except the functional ones a Settings
    page sets (surfaces.functional_params). Secrets are not even readable."""
    _inherit = "ir.config_parameter"

    @api.model
    def _security_functional_keys(self):
        """Keys an Admin may set. Addons of the suite add the keys of their
        functional settings by extending this."""
        settings = self.env["res.config.settings"]._fields.values()
        keys = {f.config_parameter for f in settings if getattr(f, "config_parameter", None)}
        return functional_params(keys, {"security_roles.inactive_days"})

    def _security_check_technical(self, operation, reason, vals=None, vals_list=None):
        Users = self.env["res.users"]
        if Users._security_technical_actor():
            return
        keys = set(self.sudo().mapped("key"))
        for values in (vals_list or [vals or {}]):
            if values.get("key"):
                keys.add(values["key"])
        refused = sorted(keys - self._security_functional_keys())
        if refused:
            self._security_refuse(operation, self.env._(
                "Only the Owner can change the system parameter %(keys)s. Admins change the "
                "parameters that Settings pages show.", keys=", ".join(refused)))

    @api.model
    def set_param(self, key, value):
        if key in _SKIP_PARAMS.get():
            return self.get_param(key)  # unchanged on an Admin's Settings save
        if key == "web.base.url" and _GUESSING_BASE_URL.get() \
                and not self.env["res.users"]._security_technical_actor():
            # core's guess at login; only the Owner's login may move the base URL
            _logger.info("web.base.url not changed: the login is not the Owner's")
            return False
        return super().set_param(key, value)

    @api.model
    def get_param(self, key, default=False):
        if not self.env.su and matches(key, SECRET_PARAMS) \
                and not self.env["res.users"]._security_technical_actor():
            raise AccessError(self.env._("Only the Owner can read the system parameter %s.", key))
        return super().get_param(key, default)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        if result or operation != "read" or self.env.su \
                or self.env["res.users"]._security_technical_actor():
            return result
        # secrets (database.secret signs reset links) are the Owner's to read
        secret = self.sudo().filtered(lambda p: matches(p.key, SECRET_PARAMS))
        if secret:
            return self.browse(secret.ids), lambda: AccessError(self.env._(
                "Only the Owner can read the system parameter %s.", secret[0].key))
        return None

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, **kwargs):
        if not self.env.su and not self.env["res.users"]._security_technical_actor():
            # secrets stay out of lists too
            domain = expression.AND([domain or [], [("key", "not in", self._security_secret_keys())]])
        return super()._search(domain, offset=offset, limit=limit, order=order, **kwargs)

    @api.model
    def _security_secret_keys(self):
        rows = self.env.execute_query(SQL("SELECT key FROM ir_config_parameter"))
        return [key for key, in rows if matches(key, SECRET_PARAMS)]
