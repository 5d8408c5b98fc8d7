from odoo import models


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _security_guard(self, operation, vals=None, vals_list=None):
        super()._security_guard(operation, vals=vals, vals_list=vals_list)
        # compiled asset bundles and view attachments are served as code: changing
        # one in place is the Owner's (Odoo creates and replaces bundles itself,
        # and a bundle created by a user is never served)
        if operation == "write" and (vals or {}).keys() - {"public", "access_token"}:
            # sudo: what the attachment is decides, whoever may read it
            served = self.sudo().filtered(
                lambda a: (a.url or "").startswith("/web/assets/") or a.res_model == "ir.ui.view")
            if served:
                served.with_env(self.env)._security_check_technical(
                    operation, self.env._("code (asset bundles)"), vals=vals)
