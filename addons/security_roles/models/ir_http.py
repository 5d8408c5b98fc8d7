import re

from odoo import models
from odoo.http import request

BEARER_RE = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _auth_method_bearer(cls):
        res = super()._auth_method_bearer()
        match = BEARER_RE.match(request.httprequest.headers.get("Authorization") or "")
        if match:
            # the key is already validated by super(); this only reads its scope
            request.security_roles_key_scope = request.env["res.users.apikeys"].sudo()\
                ._security_use_key(request.env.uid, match.group(1))
        return res
