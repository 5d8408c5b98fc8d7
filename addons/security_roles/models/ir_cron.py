from odoo import api, models

from .. import actor


class IrCron(models.Model):
    """Scheduled actions are technical surfaces (the Owner's, see ..surfaces).
    Those that keep a protection running (sealing the audit trail, backing up)
    are moreover reported when the Owner stops, slows or deletes them: modules
    name their models in _security_protected_job_models."""
    _inherit = "ir.cron"
    _security_owner_fields = frozenset({
        "active", "interval_number", "interval_type", "nextcall", "code", "model_id", "state",
        "ir_actions_server_id", "user_id"})
    _security_owner_unlink = True

    @api.model
    def _security_protected_job_models(self):
        """Models whose scheduled actions keep a protection running."""
        return set()

    def _security_owner_protected(self):
        models_ = self._security_protected_job_models()
        if not models_ or actor.is_server(self.env):
            return self.browse()
        # sudo: the job's model decides, whoever may read server actions
        return self.filtered(lambda cron: cron.sudo().model_id.model in models_)

    def _security_owner_change_is_safe(self, fname, old, new):
        if fname == "active":
            return bool(new)
        if fname == "nextcall":  # sooner weakens nothing
            return bool(old and new) and new <= old
        return False


class IrActionsServer(models.Model):
    """The code a protected scheduled action runs: changing it is stopping the
    job another way."""
    _inherit = "ir.actions.server"
    _security_owner_fields = frozenset({"code", "model_id", "state", "binding_model_id",
                                        "child_ids", "update_path", "evaluation_type", "value"})
    _security_owner_unlink = True

    def _security_owner_protected(self):
        if not self or actor.is_server(self.env):
            return self.browse()
        Cron = self.env["ir.cron"].sudo().with_context(active_test=False)
        models_ = Cron._security_protected_job_models()
        if not models_:
            return self.browse()
        # sudo: which jobs run these actions decides, whoever may read jobs
        jobs = Cron.search([("ir_actions_server_id", "in", self.ids)])
        protected = jobs.filtered(lambda job: job.model_id.model in models_).ir_actions_server_id
        return self & protected.sudo(False)
