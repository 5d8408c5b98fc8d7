from odoo import fields, models


class SelfhostBackupRestore(models.TransientModel):
    """Restore a backup into a new database (never over an existing one)."""
    _name = "selfhost.backup.restore"
    _description = "Restore a Backup"

    run_id = fields.Many2one("selfhost.backup.run", required=True, ondelete="cascade",
                             domain=[("state", "=", "done")])
    new_database = fields.Char(required=True, help="A database name that does not exist yet.")

    def action_restore(self):
        self.ensure_one()
        result = self.run_id._restore(self.new_database.strip())
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "title": self.env._("Backup restored"),
            "message": self.env._("Restored into the new database %(db)s in %(s).0f s.",
                                  db=result["database"], s=result["duration"]),
            "next": {"type": "ir.actions.act_window_close"}}}
