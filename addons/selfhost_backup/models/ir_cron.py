from odoo import api, models


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    def _security_protected_job_models(self):
        # the daily backup and the backups asked with "Back up now"
        return super()._security_protected_job_models() | {"selfhost.backup.profile"}
