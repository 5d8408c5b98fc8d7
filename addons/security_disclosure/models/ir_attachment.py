from odoo import api, models
from odoo.exceptions import AccessError, UserError

from .team import CONFIDENTIAL_MODELS


class IrAttachment(models.Model):
    """Files of reports and advisories are served only to who may read the
    document: never public, never through an access token (which /web/content
    honours for anyone holding it)."""
    _inherit = "ir.attachment"

    def _security_confidential(self):
        # sudo: res_model is needed to decide, whoever asks
        return self.sudo().filtered(lambda a: a.res_model in CONFIDENTIAL_MODELS)

    def _check_access(self, operation):
        """Reading or changing a file of a report or an advisory needs the same
        access to the document, for every ORM path (read, RPC, /web/content)."""
        result = super()._check_access(operation)
        if self.env.su or not self:
            return result
        forbidden = self.browse()
        for attachment in self._security_confidential():
            document = self.env[attachment.res_model].browse(attachment.res_id)
            mode = "read" if operation == "read" else "write"
            if not document.exists() or not document.has_access(mode):
                forbidden |= self.browse(attachment.id)
        if not forbidden:
            return result
        if result:
            return (result[0] | forbidden, result[1])
        return (forbidden, lambda: AccessError(self.env._(
            "Sorry, you are not allowed to access this document.")))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("res_model") in CONFIDENTIAL_MODELS:
                self._security_refuse_sharing(vals)
        return super().create(vals_list)

    def write(self, vals):
        if (vals.get("res_model") in CONFIDENTIAL_MODELS or self._security_confidential()):
            self._security_refuse_sharing(vals)
        return super().write(vals)

    @api.model
    def _security_refuse_sharing(self, vals):
        if vals.get("public") or vals.get("access_token"):
            raise UserError(self.env._(
                "Files of vulnerability reports and advisories cannot be public or shared by "
                "link: recipients download them from the portal, everyone else after publication "
                "from the advisory page."))

    def generate_access_token(self):
        if self._security_confidential():
            self._security_refuse_sharing({"access_token": True})
        return super().generate_access_token()

    def validate_access(self, access_token):
        self.ensure_one()
        if self._security_confidential():
            # Neither the token nor `public` counts: the document decides.
            if self.env.user._is_public() or self.env.user._is_portal():
                raise AccessError(self.env._("Sorry, you are not allowed to access this document."))
            self.check("read")
            return self
        return super().validate_access(access_token)
