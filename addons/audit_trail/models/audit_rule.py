from odoo import api, fields, models, tools

from odoo.addons.security_roles import actor

# Audited by default, and weakened by the Owner only: who may do what (users,
# groups, access rights, record rules, API keys, system parameters), and every
# model of the suite (see _audit_protected_model).
PROTECTED_MODELS = frozenset({
    "res.users", "res.groups", "ir.model.access", "ir.rule", "res.users.apikeys",
    "ir.config_parameter"})
SUITE_MODULES = frozenset({"security_roles", "audit_trail", "auth_saml_all_tiers",
                           "security_disclosure", "selfhost_backup"})


class AuditRule(models.Model):
    """Which models have their create/write/delete recorded. Admins add
    models; only the Owner stops or narrows the recording of the default ones."""
    _name = "audit.rule"
    _description = "Audited Model"
    _order = "model"
    _security_owner_fields = frozenset({"model_id", "log_create", "log_write", "log_unlink",
                                        "active"})
    _security_owner_unlink = True

    model_id = fields.Many2one("ir.model", required=True, ondelete="cascade", index=True)
    model = fields.Char("Technical Name", related="model_id.model", store=True, readonly=True)
    log_create = fields.Boolean(string="Creations", default=True)
    log_write = fields.Boolean(string="Changes", default=True)
    log_unlink = fields.Boolean(string="Deletions", default=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [("model_uniq", "unique(model_id)", "This model is audited already.")]

    @api.model
    @tools.ormcache()
    def _rules_by_model(self):
        # by the rule's ir.model, never by its stored copy of the name (a related
        # field an RPC caller can write)
        return {rule.model_id.model: (rule.log_create, rule.log_write, rule.log_unlink)
                for rule in self.sudo().search([])}  # sudo: every user's writes consult it

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self.env.registry.clear_cache()
        return rules

    def write(self, vals):
        if "model" in vals and not actor.is_server(self.env):
            # the name follows model_id; written alone it would only mislead
            self._security_refuse("write", self.env._(
                "The technical name of an audited model follows its model: change the model."))
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    @api.model
    def _audit_protected_model(self, model_name):
        """A model whose recording only the Owner weakens: the defaults, and the
        models the suite's modules define (read from the code, not from data)."""
        if model_name in PROTECTED_MODELS:
            return True
        model = self.env.get(model_name)
        return model is not None and getattr(model, "_original_module", None) in SUITE_MODULES

    def _security_owner_protected(self):
        # sudo: the rule's model decides, whoever may read ir.model
        return self.filtered(lambda rule: self._audit_protected_model(rule.sudo().model_id.model))

    def _security_owner_change_is_safe(self, fname, old, new):
        # recording more (or again) weakens nothing
        return fname in ("log_create", "log_write", "log_unlink", "active") and bool(new)
