import json
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
_logger = logging.getLogger(__name__)

MB = 1024 * 1024


def human_size(size):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024


class SelfhostBackupRun(models.Model):
    """One backup attempt. Only a run in state done with a manifest is a
    backup; a failed run's uploads are aborted and its objects deleted (or
    retried later, when S3 was unreachable: see `leftovers`)."""
    _name = "selfhost.backup.run"
    _description = "Backup Run"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "backup_id"

    profile_id = fields.Many2one("selfhost.backup.profile", ondelete="set null", readonly=True,
                                 index=True)
    database = fields.Char(readonly=True)
    trigger = fields.Selection([("cron", "Daily"), ("manual", "Button"), ("cli", "Command line")],
                               readonly=True)
    state = fields.Selection([("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                             readonly=True, index=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))
    size = fields.Float(string="Stored Size (bytes)", readonly=True, digits=(20, 0))
    size_display = fields.Char(string="Stored Size", compute="_compute_size_display")
    plain_size = fields.Float(string="Data Size (bytes)", readonly=True, digits=(20, 0),
                              help="The dump and filestore archive before compression.")
    db_size = fields.Float(string="Database Size (bytes)", readonly=True, digits=(20, 0))
    throughput = fields.Float(string="Throughput (MiB/s)", readonly=True, digits=(16, 1),
                              help="Data size over duration.")
    sha256 = fields.Char(string="SHA-256", readonly=True,
                         help="Of the stored database object (see the manifest for the others).")
    backup_id = fields.Char(string="Backup", readonly=True)
    manifest_key = fields.Char(readonly=True)
    keys = fields.Text(readonly=True)
    error = fields.Text(readonly=True)
    leftovers = fields.Text(readonly=True, help="Uploads and objects of a failed run that could "
                            "not be cleaned up yet; the next run of the profile retries.")
    retention_note = fields.Text(string="Retention", readonly=True)
    verify_state = fields.Selection([("ok", "Verified"), ("failed", "Verification failed")],
                                    readonly=True)
    verify_message = fields.Text(readonly=True)
    verified_at = fields.Datetime(readonly=True)

    @api.depends("size")
    def _compute_size_display(self):
        for run in self:
            run.size_display = human_size(run.size or 0)

    @api.depends("backup_id", "state", "profile_id")
    def _compute_display_name(self):
        for run in self:
            run.display_name = run.backup_id or self.env._(
                "%(profile)s: %(state)s run", profile=run.profile_id.name or "?",
                state=dict(run._fields["state"].selection).get(run.state, ""))

    # ------------------------------------------------------------------
    # Results
    # ------------------------------------------------------------------
    def _record_failure(self, message, duration, db_size, leftovers):
        self.write({"state": "failed", "finished_at": fields.Datetime.now(),
                    "duration": duration, "db_size": db_size, "error": message,
                    "leftovers": self._dump_leftovers(leftovers)})
        profile = self.profile_id
        profile._alert("backup_failed", self.env._("Backup failed: %(name)s", name=profile.name),
                       self.env._("The backup of %(db)s with profile %(name)s failed: %(error)s",
                                  db=self.database, name=profile.name, error=message), self)

    def _record_success(self, manifest, db_size):
        objects = manifest["objects"]
        plain = sum(o["plain_size"] for o in objects)
        duration = manifest["duration"]
        self.write({
            "state": "done", "finished_at": fields.Datetime.now(), "duration": duration,
            "size": sum(o["size"] for o in objects), "plain_size": plain, "db_size": db_size,
            "throughput": plain / MB / duration if duration else 0,
            "sha256": objects[0]["sha256"], "backup_id": manifest["backup_id"],
            "manifest_key": manifest["manifest_key"],
            "keys": "\n".join([o["key"] for o in objects] + [manifest["manifest_key"]]),
        })
        if "audit.event" in self.env:  # audit_trail is optional
            self.env["audit.event"].log(
                "security_event", "backup.succeeded", model=self._name, res_id=self.id,
                res_name=self.backup_id, details={"profile": self.profile_id.name,
                                                  "database": self.database,
                                                  "size": int(self.size)})

    @api.model
    def _dump_leftovers(self, leftovers):
        return json.dumps(leftovers) if leftovers else False

    def _load_leftovers(self):
        return json.loads(self.leftovers) if self.leftovers else []

    # ------------------------------------------------------------------
    # Verify and restore
    # ------------------------------------------------------------------
    def _check_restorable(self):
        self.ensure_one()
        self.profile_id._check_admin()
        if self.state != "done" or not self.manifest_key:
            raise UserError(self.env._("Only a successful backup can be verified or restored."))
        if not self.profile_id:
            raise UserError(self.env._("The profile of this backup was deleted."))

    def action_verify(self):
        self._check_restorable()
        profile = self.profile_id
        try:
            result = profile._verify_manifest(self.manifest_key)
        except UserError as exc:
            message = exc.args[0]
            self.sudo().write({  # sudo: Admins only read runs; the result is the system's
                "verify_state": "failed", "verify_message": message,
                "verified_at": fields.Datetime.now()})
            profile._alert("backup_verify_failed", self.env._(
                "Backup verification failed: %(backup)s", backup=self.backup_id), message, self)
            return self._notify(self.env._("Verification failed"), message, "danger")
        message = self.env._("%(n)s objects, %(size)s: every hash and authentication tag "
                             "checked.", n=result["objects"], size=human_size(result["size"]))
        self.sudo().write({  # sudo: as above
            "verify_state": "ok", "verify_message": message,
            "verified_at": fields.Datetime.now()})
        return self._notify(self.env._("Backup verified"), message, "success")

    def _restore(self, new_database):
        """Restore this backup into a new, neutralized database (and its filestore)."""
        self._check_restorable()
        self.profile_id._check_owner_restore()
        return self.profile_id._restore_manifest(self.manifest_key, new_database)

    def action_open_restore(self):
        self._check_restorable()
        self.profile_id._check_owner_restore()
        return {"type": "ir.actions.act_window", "res_model": "selfhost.backup.restore",
                "view_mode": "form", "target": "new",
                "context": {"default_run_id": self.id}}

    def _notify(self, title, message, kind):
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": kind, "title": title, "message": message, "sticky": kind == "danger",
            "next": {"type": "ir.actions.act_window_close"}}}
