from odoo import api, fields, models


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
        self.browse()._security_refuse("create", self.env._(
            "%s records are written by the system only.", self._description))

    def write(self, vals):  # pylint: disable=method-required-super
        self._security_refuse("write", self.env._("%s records cannot be changed.",
                                                  self._description))

    def unlink(self):  # pylint: disable=method-required-super
        # not an ondelete method: those are skipped under the uninstall flag,
        # a context key any RPC caller can send; access rights do not matter
        # either. Retention deletes in SQL; uninstalling drops the table.
        if self:
            self._security_refuse("unlink", self.env._(
                "%s records cannot be deleted; only the retention policy removes expired ones.",
                self._description))
        return True
