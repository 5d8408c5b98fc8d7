from odoo import models


class IrModelAccess(models.Model):
    _inherit = "ir.model.access"

    def _make_access_error(self, model, mode):
        error = super()._make_access_error(model, mode)
        self.env["audit.event"].log("authorization", "access_denied", outcome="denied",
                                    model=model, details={"operation": mode, "by": "acl"})
        return error


class IrRule(models.Model):
    _inherit = "ir.rule"

    def _make_access_error(self, operation, records):
        error = super()._make_access_error(operation, records)
        self.env["audit.event"].log("authorization", "access_denied", outcome="denied",
                                    model=records._name, res_id=records[:1].id or None,
                                    details={"operation": operation, "by": "record_rule",
                                             "records": records.ids[:20]})
        return error
