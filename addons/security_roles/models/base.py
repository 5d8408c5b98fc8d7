from odoo import api, models
from odoo.exceptions import AccessError

from .res_users_apikeys import read_only_key_in_use

OPERATION_LABELS = {"create": "create", "write": "change", "unlink": "delete"}


def _refuse_read_only_key(model, operation):
    raise AccessError(model.env._(
        "This API key is read-only: it cannot %(operation)s %(model)s records. "
        "Use an API key with full access for integrations that write.",
        operation=OPERATION_LABELS[operation], model=model._description or model._name))


class Base(models.AbstractModel):
    """Read-scoped API keys: every ORM write of the call fails, sudo() included,
    so buttons that write fail too while those that only read still work."""
    _inherit = "base"

    @api.model_create_multi
    def create(self, vals_list):
        if vals_list and read_only_key_in_use():
            _refuse_read_only_key(self, "create")
        return super().create(vals_list)

    def write(self, vals):
        if self and read_only_key_in_use():
            _refuse_read_only_key(self, "write")
        return super().write(vals)

    def unlink(self):
        if self and read_only_key_in_use():
            _refuse_read_only_key(self, "unlink")
        return super().unlink()
