from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def write(self, vals):
        if "email" in vals:
            # a user's e-mail is where the reset-password link goes
            changed = self.filtered(lambda p: p.email != vals["email"])
            # sudo: whose partner this is decides, whoever may read the user
            users = changed.sudo().with_context(active_test=False).user_ids
            if users:
                users.with_env(self.env)._security_check_credential_change(
                    self.env._("the e-mail address"))
        return super().write(vals)
