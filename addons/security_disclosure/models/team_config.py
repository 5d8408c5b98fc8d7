"""The Security team's configuration kept in other models: the e-mail aliases
that create or update reports and advisories, the mail templates of this
module's models (what a broadcast sends, and to whom) and the sequences of its
references.

Each of those models is Settings' (base.group_system) in core, so a workspace
Admin outside the team could otherwise make itself the reporter of every new
report (alias defaults), put its address in copy of the broadcast (template)
or re-number references. Only team Admins and the Owner (and server code)
create, change or delete them, by whatever path, sudo included: decided by
the principal, refused and audited otherwise.
"""
import contextvars

from odoo import api, models

from odoo.addons.security_roles import actor

from .team import check_team_decides

MODULE = "security_disclosure"
# Codes of this module's sequences (data/ir_sequence_data.xml).
SEQUENCE_CODES = ("security.report", "security.advisory")

# Set while a sequence opens the date range of a new period for its next
# number (the intake does, for anonymous visitors).
_NUMBERING = contextvars.ContextVar("security_disclosure_numbering", default=False)


def module_models(env):
    """Names of the models this module defines: code, not data."""
    return frozenset(name for name, model in env.registry.items()
                     if model._original_module == MODULE)


def module_model_ids(env):
    # sudo: which ids the module's models have decides, whoever asks
    return set(env["ir.model"].sudo().search([("model", "in", sorted(module_models(env)))]).ids)


class SecurityTeamConfig(models.AbstractModel):
    """Records of another model that are the team's configuration: the
    inheriting model tells which records and which values are the team's."""
    _name = "security.team.config"
    _description = "Configuration owned by the Security team"

    # fields Odoo writes for itself while using a record (e.g. an alias's
    # status after an incoming e-mail), never a decision
    _security_team_bookkeeping = ()

    @api.model_create_multi
    def create(self, vals_list):
        if any(self._security_team_vals(vals) for vals in vals_list):
            check_team_decides(self, self._security_team_what(), "create")
        return super().create(vals_list)

    def write(self, vals):
        if set(vals) - set(self._security_team_bookkeeping) and (
                self._security_team_owned() or self._security_team_vals(vals)):
            check_team_decides(self, self._security_team_what())
        return super().write(vals)

    def unlink(self):
        if self._security_team_owned():
            check_team_decides(self, self._security_team_what(), "unlink")
        return super().unlink()

    def _security_team_owned(self):
        """The records of self that are the team's, as they are now."""
        return self.browse()

    @api.model
    def _security_team_vals(self, vals):
        """Whether writing `vals` makes a record the team's."""
        return False

    @api.model
    def _security_team_what(self):
        return self.env._("change the Security team's configuration")


class MailAlias(models.Model):
    """Aliases whose target or owner is a model of this module (the security@
    alias, or any new one pointing at reports or advisories)."""
    _name = "mail.alias"
    _inherit = ["security.team.config", "mail.alias"]
    _security_team_bookkeeping = ("alias_status",)

    def _security_team_owned(self):
        names = module_models(self.env)
        # sudo: the target decides, whoever may read the models
        return self.sudo().filtered(lambda alias: alias.alias_model_id.model in names
                                    or alias.alias_parent_model_id.model in names)

    @api.model
    def _security_team_vals(self, vals):
        targets = {vals.get("alias_model_id"), vals.get("alias_parent_model_id")} - {None, False}
        return bool(targets & module_model_ids(self.env))

    @api.model
    def _security_team_what(self):
        return self.env._("change the e-mail aliases of vulnerability reports and advisories")


class MailTemplate(models.Model):
    """Templates of this module's models: the receipt, the review request and
    the broadcast, and any new one on reports, advisories or receipts."""
    _name = "mail.template"
    _inherit = ["security.team.config", "mail.template"]

    def _security_team_owned(self):
        names = module_models(self.env)
        # sudo: the template's model decides, whoever may read the template
        return self.sudo().filtered(lambda template: template.model in names)

    @api.model
    def _security_team_vals(self, vals):
        return vals.get("model_id") in module_model_ids(self.env) or \
            vals.get("model") in module_models(self.env)

    @api.model
    def _security_team_what(self):
        return self.env._("change the mail templates of vulnerability reports and advisories")


class IrSequence(models.Model):
    """The sequences of report and advisory references, and any sequence
    given one of their codes (next_by_code would pick it)."""
    _name = "ir.sequence"
    _inherit = ["security.team.config", "ir.sequence"]

    def _security_team_owned(self):
        # sudo: the code decides, whoever may read the sequence
        return self.sudo().filtered(lambda sequence: sequence.code in SEQUENCE_CODES)

    @api.model
    def _security_team_vals(self, vals):
        return vals.get("code") in SEQUENCE_CODES

    @api.model
    def _security_team_what(self):
        return self.env._("change the sequences of vulnerability report and advisory references")

    def _create_date_range_seq(self, date):
        with actor.flag(_NUMBERING):
            return super()._create_date_range_seq(date)


class IrSequenceDateRange(models.Model):
    """The periods of those sequences, which carry their next numbers."""
    _name = "ir.sequence.date_range"
    _inherit = ["security.team.config", "ir.sequence.date_range"]

    def _security_team_owned(self):
        # sudo: the sequence's code decides, whoever may read it
        return self.sudo().filtered(lambda period: period.sequence_id.code in SEQUENCE_CODES)

    @api.model
    def _security_team_vals(self, vals):
        if _NUMBERING.get() or not vals.get("sequence_id"):
            return False  # a sequence opening its next period for its next number
        # sudo: the sequence's code decides, whoever may read it
        return self.env["ir.sequence"].sudo().browse(vals["sequence_id"]).code in SEQUENCE_CODES

    @api.model
    def _security_team_what(self):
        return self.env._("change the sequences of vulnerability report and advisory references")
