from odoo import models


class SecurityOwnershipTransfer(models.TransientModel):
    _inherit = "security.ownership.transfer"

    def action_transfer(self):
        old_owner, new_owner = self.env.user, self.new_owner_id
        res = super().action_transfer()
        self.env["audit.event"].log(
            "security_event", "ownership.transfer", model="res.users", res_id=new_owner.id,
            res_name=new_owner.login, details={"from": old_owner.login, "to": new_owner.login})
        return res
