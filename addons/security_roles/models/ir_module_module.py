from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _button_immediate_function(self, function):
        # refused before anything runs (core commits and reloads the registry)
        self._security_guard("write", vals={})
        return super()._button_immediate_function(function)
