from odoo import api, models


class MailAlias(models.Model):
    """An alias creates records as the mail gateway (the superuser): it must not
    target a technical surface, nor the technical access grants."""
    _inherit = "mail.alias"

    def _security_check_alias_target(self, vals_list):
        Model = self.env["ir.model"].sudo()
        model_ids = {vals["alias_model_id"] for vals in vals_list if vals.get("alias_model_id")}
        for model in Model.browse(model_ids):
            target = self.env.get(model.model)
            if target is None:
                continue
            if target._security_technical_reason() or model.model == "security.technical.access":
                if not self.env["res.users"]._security_technical_actor():
                    self._security_refuse("write", self.env._(
                        "Only the Owner can point an e-mail alias at %s records.", model.name))
                if model.model == "security.technical.access":
                    self._security_refuse("write", self.env._(
                        "Technical access is granted by the Owner in person, not by e-mail."))

    @api.model_create_multi
    def create(self, vals_list):
        self._security_check_alias_target(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._security_check_alias_target([vals])
        return super().write(vals)
