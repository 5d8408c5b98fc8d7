from odoo import models


class IrModelData(models.Model):
    _inherit = "ir.model.data"

    def _update_xmlids(self, data_list, update=False):
        # imports create external IDs with SQL: an Admin's import may name its
        # own records (__import__, __export__), never a module's, which would be
        # taken over when the Owner installs that module
        modules = {(data["xml_id"].split(".", 1)[0]) for data in data_list if data.get("xml_id")}
        if any(not module.startswith("__") for module in modules) \
                and not self.env["res.users"]._security_technical_actor():
            self._security_refuse("create", self.env._(
                "Only the Owner can give records external IDs of modules (%s): use IDs "
                "without a module prefix in imports.",
                ", ".join(sorted(m for m in modules if not m.startswith("__")))))
        return super()._update_xmlids(data_list, update=update)
