from odoo import api, fields, models, tools


class AuditRule(models.Model):
    """Which models have their create/write/delete recorded."""
    _name = "audit.rule"
    _description = "Audited Model"
    _order = "model"

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
        return {rule.model: (rule.log_create, rule.log_write, rule.log_unlink)
                for rule in self.sudo().search([])}  # sudo: every user's writes consult it

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self.env.registry.clear_cache()
        return rules

    def write(self, vals):
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res
