from odoo import models

from .audit_rule import SUITE_MODULES


class IrModuleModule(models.Model):
    """Uninstalling is the Owner's (security_roles guards modules). Before the
    audit trail's tables go, it leaves a sealed last event, a signed checkpoint
    and an export of the whole chain outside the database."""
    _inherit = "ir.module.module"

    def write(self, vals):
        result = super().write(vals)  # security_roles decides who may, first
        if vals.get("state") == "to remove" and "audit_trail" in self.mapped("name") \
                and not self.env["audit.checkpoint"]._private_key():
            # refused (and rolled back) before the mark is committed: a module
            # marked for removal is removed at the next start, and the export
            # needs the key
            self.env["audit.checkpoint"]._final_export()  # raises the explanation
        return result

    def module_uninstall(self):
        names = set(self.mapped("name"))
        suite = sorted(names & SUITE_MODULES - {"audit_trail"})
        if suite:
            # their protections (backup profiles, the Security team, roles...) go
            # with their tables: a weakening, sealed before, and alerted
            self.env["audit.event"]._log_weakening(self, "unlink", [
                (module, None) for module in self.filtered(lambda m: m.name in suite)])
        if "audit_trail" in names:
            self.env["audit.checkpoint"]._final_export()
        return super().module_uninstall()
