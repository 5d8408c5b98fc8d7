from odoo import api, fields, models
from odoo.exceptions import AccessError


class BigInteger(fields.Integer):
    """An integer stored as bigint: an audit chain outlives int4."""
    _column_type = ("int8", "int8")


class AuditAppendOnly(models.AbstractModel):
    """Records only the system writes, in SQL: nothing through the ORM, for
    anyone, superuser included."""
    _name = "audit.append.only.mixin"
    _description = "Append-only records"

    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        raise AccessError(self.env._("%s records are written by the system only.",
                                     self._description))

    def write(self, vals):  # pylint: disable=method-required-super
        raise AccessError(self.env._("%s records cannot be changed.", self._description))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise AccessError(self.env._(
            "%s records cannot be deleted; only the retention policy removes expired ones.",
            self._description))
