from odoo import models, tools

from ..roles import VIEWER_PERSONAL_MODELS


class IrModelAccess(models.Model):
    _inherit = "ir.model.access"

    @tools.ormcache("self.env.uid", "mode")
    def _get_allowed_models(self, mode="read"):
        allowed = super()._get_allowed_models(mode)
        if mode != "read" and self.env.user.security_role == "viewer":
            # ACLs only add up: a Viewer is an internal user, so what the
            # internal-user ACLs grant is cut here, whatever the ACLs say.
            allowed = allowed & VIEWER_PERSONAL_MODELS
        return allowed
