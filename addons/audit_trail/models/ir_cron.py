from odoo import api, models


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    def _security_protected_job_models(self):
        # sealing, verification, checkpoints and retention
        return super()._security_protected_job_models() | {"audit.event", "audit.checkpoint"}
