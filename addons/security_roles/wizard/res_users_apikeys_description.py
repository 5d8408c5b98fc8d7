from odoo import fields, models

from odoo.addons.base.models.res_users import check_identity

from ..models.res_users_apikeys import SCOPE_SELECTION


class ResUsersApikeysDescription(models.TransientModel):
    _inherit = "res.users.apikeys.description"

    security_scope = fields.Selection(
        SCOPE_SELECTION, string="Access", required=True, default="read",
        help="Read only: the key can search and read, and every create, change, delete "
             "or button that writes fails. Full access: whatever your user can do.")

    @check_identity
    def make_key(self):
        return super(ResUsersApikeysDescription,
                     self.with_context(security_key_scope=self.security_scope)).make_key()
