import re

from odoo import fields, models
from odoo.http import request

from ..actor import set_request_principal

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

    @classmethod
    def _authenticate_explicit(cls, auth):
        super()._authenticate_explicit(auth)
        # The principal of the request: whoever its route authenticated (a
        # session, a bearer key), before any code can update_env(user=...).
        uid = request.env.uid
        if uid and request.env.user._is_public():
            uid = None
        set_request_principal(uid)

    def session_info(self):
        info = super().session_info()
        uid = request.session.uid if request else None
        if uid:
            # sudo: the user's own running grant, shown in their own web client
            grant = self.env["security.technical.access"].sudo()._security_active_grant(uid)
            info["security_technical_access_until"] = \
                fields.Datetime.to_string(grant.date_end) if grant else False
        return info
