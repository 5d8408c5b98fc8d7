import contextvars

from odoo import api, models

from .. import actor

# Set by the suite's own actions that ask a protected job to run sooner
# ("Back up now"): see run_soon.
_SUITE_TRIGGER = contextvars.ContextVar("security_roles_suite_trigger", default=False)


def run_soon(cron, at=None):
    """Ask the protected job `cron` to run (at `at`, or now) on the suite's
    behalf: what the calling action allows, nothing more."""
    with actor.flag(_SUITE_TRIGGER):
        cron.sudo()._trigger(at)


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


class IrCronTrigger(models.Model):
    """Asking a job to run sooner is functional (see ..surfaces), except for the
    protected jobs: running a backup job again and again would push the older
    backups out of the retention count, and deleting a trigger cancels a backup
    someone asked for. Those triggers come from the suite's actions, or from
    the Owner."""
    _inherit = "ir.cron.trigger"

    def _security_protected_triggers(self, cron_ids):
        Cron = self.env["ir.cron"].sudo().with_context(active_test=False)
        models_ = Cron._security_protected_job_models()
        return models_ and any(cron.model_id.model in models_ for cron in Cron.browse(cron_ids))

    def _security_check_trigger(self, operation, cron_ids):
        if _SUITE_TRIGGER.get() and operation == "create":
            return
        if not self._security_protected_triggers(cron_ids):
            return
        if not self.env["res.users"]._security_technical_actor(use=(self._name, operation)):
            self._security_refuse(operation, self.env._(
                "Only the Owner runs or cancels this scheduled action out of turn; use its "
                "own button (e.g. Back up now)."))

    @api.model_create_multi
    def create(self, vals_list):
        self._security_check_trigger("create", [vals.get("cron_id") for vals in vals_list])
        return super().create(vals_list)

    def write(self, vals):
        self._security_check_trigger("write", self.sudo().cron_id.ids + (
            [vals["cron_id"]] if vals.get("cron_id") else []))
        return super().write(vals)

    def unlink(self):
        self._security_check_trigger("unlink", self.sudo().cron_id.ids)
        return super().unlink()
