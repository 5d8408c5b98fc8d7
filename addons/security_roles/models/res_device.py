from odoo import models


class ResDevice(models.Model):
    _inherit = "res.device"

    def _revoke(self):
        # before core deletes the session files, which no rollback restores
        # (sudo: whose sessions these are decides, whoever may read them)
        self.sudo().user_id.with_env(self.env)._security_check_credential_change(
            self.env._("the sessions"))
        return super()._revoke()
