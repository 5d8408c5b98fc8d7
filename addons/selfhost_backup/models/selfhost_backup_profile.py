import logging
import os
import time
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models, release
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config
from odoo.tools.misc import exec_pg_environ, find_pg_tool

from ..lib import crypto, pipeline
from ..lib import s3 as s3lib

_logger = logging.getLogger(__name__)

OWNER = "security_roles.group_role_owner"
ADMIN = "security_roles.group_role_admin"


class SelfhostBackupProfile(models.Model):
    """Where and how a database is backed up. Secrets are never stored in
    plain fields that the browser receives: credentials come from odoo.conf or
    the environment, or from Owner-only fields that no view displays; the
    encryption key comes from the configuration only."""
    _name = "selfhost.backup.profile"
    _description = "Backup Profile"
    _order = "name"

    name = fields.Char(required=True, help="Used by `odoo-bin selfhost-backup --profile NAME`.")
    active = fields.Boolean(default=True)
    endpoint_url = fields.Char(string="S3 Endpoint",
                               help="Blank for AWS S3; the URL of any S3-compatible store otherwise, "
                               "e.g. https://s3.eu-central-1.wasabisys.com")
    region = fields.Char(help="Blank for us-east-1.")
    bucket = fields.Char(required=True)
    prefix = fields.Char(default="odoo-backups",
                         help="Backups are stored under <prefix>/<database>/<backup id>/. Retention "
                         "only ever deletes keys named that way under that path.")
    addressing_style = fields.Selection(
        [("auto", "Automatic"), ("path", "Path (endpoint/bucket/key)"),
         ("virtual", "Virtual host (bucket.endpoint/key)")], default="auto", required=True)
    checksum_compat = fields.Boolean(
        string="Checksum compatibility",
        help="Send checksums only where S3 requires them, for S3-compatible stores that reject "
        "the CRC checksums recent AWS clients add to every upload.")
    credentials_source = fields.Selection(
        [("config", "odoo.conf / environment"), ("stored", "Stored here (Owner only)")],
        default="config", required=True,
        help="odoo.conf options selfhost_backup_access_key_id / selfhost_backup_secret_access_key "
        "(or environment variables in capitals); without them, the AWS default chain "
        "(AWS_ACCESS_KEY_ID, instance role).")
    config_name = fields.Char(
        help="Read selfhost_backup_<name>_<option> before selfhost_backup_<option>, so that "
        "profiles can use different credentials and keys from the configuration.")
    # never in a view: set through the write-only fields below, read by the server only
    access_key_id = fields.Char(string="Stored Access Key ID", groups=OWNER, copy=False)
    secret_access_key = fields.Char(string="Stored Secret Access Key", groups=OWNER, copy=False)
    new_access_key_id = fields.Char(string="Access Key ID", compute="_compute_new_credentials",
                                    inverse="_inverse_new_access_key_id", groups=OWNER)
    new_secret_access_key = fields.Char(string="Secret Access Key",
                                        compute="_compute_new_credentials",
                                        inverse="_inverse_new_secret_access_key", groups=OWNER)
    stored_credentials_set = fields.Boolean(compute="_compute_stored_credentials_set")
    include_filestore = fields.Boolean(default=True)
    compression = fields.Selection([("zstd", "zstd"), ("gzip", "gzip"), ("none", "None")],
                                   default="zstd", required=True)
    encrypt = fields.Boolean(
        string="Client-side encryption", default=True,
        help="AES-256-GCM before upload, with the key from odoo.conf option "
        "selfhost_backup_encryption_key or the environment variable "
        "SELFHOST_BACKUP_ENCRYPTION_KEY (never stored in the database).")
    encryption_key_fingerprint = fields.Char(compute="_compute_encryption_key_fingerprint")
    sse = fields.Selection([("none", "None"), ("AES256", "SSE-S3 (AES256)"),
                            ("aws:kms", "SSE-KMS")], string="Server-side encryption",
                           default="none", required=True)
    sse_kms_key_id = fields.Char(string="KMS Key ID")
    object_lock_mode = fields.Selection(
        [("none", "None"), ("GOVERNANCE", "Governance"), ("COMPLIANCE", "Compliance")],
        default="none", required=True,
        help="Needs a bucket created with Object Lock. Locked backups cannot be deleted by "
        "retention before their lock expires.")
    object_lock_days = fields.Integer(default=30)
    daily = fields.Boolean(string="Daily backup", default=True,
                           help="Backed up by the daily scheduled action.")
    keep_count = fields.Integer(default=7, help="Keep at most this many backups (0: no limit).")
    keep_days = fields.Integer(default=30, help="Delete backups older than this (0: no limit). "
                               "The newest good backup is always kept.")
    run_ids = fields.One2many("selfhost.backup.run", "profile_id", string="Runs")
    last_run_id = fields.Many2one("selfhost.backup.run", compute="_compute_last_run")
    last_state = fields.Selection([("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                                  compute="_compute_last_run", string="Last Run State")
    last_success = fields.Datetime(compute="_compute_last_run", string="Last Good Backup")

    _sql_constraints = [("name_uniq", "unique(name)", "A backup profile with this name exists.")]

    def _compute_new_credentials(self):
        for profile in self:
            profile.new_access_key_id = False
            profile.new_secret_access_key = False

    def _inverse_new_access_key_id(self):
        for profile in self.filtered("new_access_key_id"):
            profile.access_key_id = profile.new_access_key_id.strip()

    def _inverse_new_secret_access_key(self):
        for profile in self.filtered("new_secret_access_key"):
            profile.secret_access_key = profile.new_secret_access_key.strip()

    def _compute_stored_credentials_set(self):
        for profile in self:
            # sudo: tells Admins whether the Owner set credentials, without the values
            stored = profile.sudo()
            profile.stored_credentials_set = bool(stored.access_key_id and stored.secret_access_key)

    def _compute_encryption_key_fingerprint(self):
        for profile in self:
            raw = profile._config_value("encryption_key")
            try:
                profile.encryption_key_fingerprint = crypto.key_fingerprint(crypto.parse_key(raw))
            except crypto.CryptoError:
                profile.encryption_key_fingerprint = False

    @api.depends("run_ids.state")
    def _compute_last_run(self):
        Run = self.env["selfhost.backup.run"]
        for profile in self:
            profile.last_run_id = Run.search([("profile_id", "=", profile.id)], limit=1)
            profile.last_state = profile.last_run_id.state
            profile.last_success = Run.search([("profile_id", "=", profile.id),
                                               ("state", "=", "done")], limit=1).started_at

    @api.constrains("keep_count", "keep_days", "object_lock_days", "object_lock_mode", "prefix",
                    "endpoint_url")
    def _check_settings(self):
        for profile in self:
            if profile.keep_count < 0 or profile.keep_days < 0:
                raise ValidationError(self.env._("Retention counts and days cannot be negative."))
            if profile.object_lock_mode != "none" and profile.object_lock_days <= 0:
                raise ValidationError(self.env._("Object lock needs a number of days."))
            if profile.prefix and (".." in profile.prefix.split("/")):
                raise ValidationError(self.env._("The prefix cannot contain '..'."))
            if profile.endpoint_url and not profile.endpoint_url.startswith(
                    ("https://", "http://")):
                raise ValidationError(self.env._(
                    "The S3 endpoint must be a URL starting with https:// (or http://), "
                    "or blank for AWS."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_backup_now(self):
        self._check_admin()
        runs = self.env["selfhost.backup.run"]
        for profile in self:
            runs |= profile._run_backup(trigger="manual")
        failed = runs.filtered(lambda r: r.state == "failed")
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "danger" if failed else "success", "sticky": bool(failed),
            "title": self.env._("Backup failed") if failed else self.env._("Backup done"),
            "message": failed[:1].error if failed else self.env._(
                "%(size)s stored in %(duration).1f s.", size=runs[:1].size_display,
                duration=runs[:1].duration),
            "next": {"type": "ir.actions.act_window_close"},
        }}

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "selfhost_backup.action_selfhost_backup_run")
        action["domain"] = [("profile_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Configuration
    # ------------------------------------------------------------------
    def _check_admin(self):
        if not (self.env.su or self.env.user.has_group(ADMIN)):
            raise AccessError(self.env._("Only the Owner and Admins can run backups and restores."))

    def _config_value(self, option):
        """odoo.conf option or environment variable, profile-specific first."""
        names = [f"selfhost_backup_{option}"]
        if self.config_name:
            names.insert(0, f"selfhost_backup_{self.config_name.strip()}_{option}")
        for name in names:
            value = config.get(name) or os.environ.get(name.upper())
            if value:
                return str(value)
        return None

    def _credentials(self):
        if self.credentials_source == "stored":
            stored = self.sudo()  # sudo: the server reads the Owner-only credentials to connect
            if not (stored.access_key_id and stored.secret_access_key):
                raise UserError(self.env._(
                    "Profile %(name)s uses stored credentials, but the Owner has not entered "
                    "them yet.", name=self.name))
            return stored.access_key_id, stored.secret_access_key
        return self._config_value("access_key_id"), self._config_value("secret_access_key")

    def _encryption_key(self):
        if not self.encrypt:
            return None
        raw = self._config_value("encryption_key")
        if not raw:
            raise UserError(self.env._(
                "No encryption key is configured for profile %(name)s: set "
                "selfhost_backup_encryption_key in odoo.conf (or the environment variable "
                "SELFHOST_BACKUP_ENCRYPTION_KEY) to the output of `openssl rand -base64 32`, "
                "and keep a copy of it away from the server: backups cannot be restored "
                "without it.", name=self.name))
        try:
            return crypto.parse_key(raw)
        except crypto.CryptoError as exc:
            raise UserError(str(exc)) from None

    def _client(self):
        access_key, secret_key = self._credentials()
        return s3lib.make_client(self.endpoint_url, self.region, access_key, secret_key,
                                 self.addressing_style, self.checksum_compat)

    def _extra_args(self):
        args = {}
        if self.sse != "none":
            args["ServerSideEncryption"] = self.sse
            if self.sse == "aws:kms" and self.sse_kms_key_id:
                args["SSEKMSKeyId"] = self.sse_kms_key_id
        if self.object_lock_mode != "none":
            args["ObjectLockMode"] = self.object_lock_mode
            args["ObjectLockRetainUntilDate"] = datetime.now(timezone.utc) + timedelta(
                days=self.object_lock_days)
        return args

    def _list_page_size(self):
        return int(self.env["ir.config_parameter"].sudo().get_param(
            "selfhost_backup.list_page_size", 1000))

    @api.model
    def _pg_tool(self, name):
        configured = config.get(f"selfhost_backup_{name}")
        if configured:
            return configured
        try:
            return find_pg_tool(name)
        except Exception:  # noqa: BLE001 (Odoo raises a bare Exception when it is missing)
            raise UserError(self.env._(
                "%(tool)s was not found: install the PostgreSQL client tools, or set pg_path "
                "or selfhost_backup_%(tool)s in odoo.conf.", tool=name)) from None

    @api.model
    def _lock_wait_timeout(self):
        """How long pg_dump waits for a table lock before failing (not forever)."""
        return self.env["ir.config_parameter"].sudo().get_param(
            "selfhost_backup.lock_wait_timeout", "15min")

    # ------------------------------------------------------------------
    # Backups
    # ------------------------------------------------------------------
    @api.model
    def _cron_backup(self):
        for profile in self.search([("daily", "=", True)]):
            profile._run_backup(trigger="cron")

    def _run_backup(self, trigger="manual", on_part=None):
        """Back this database up with this profile. Never raises for a failed
        backup: the run records it (status, error) and the Owner and Admins
        are alerted. Returns the run."""
        self.ensure_one()
        dbname = self.env.cr.dbname
        # sudo: the run history is written by the backup itself; Admins only read it
        run = self.env["selfhost.backup.run"].sudo().create({
            "profile_id": self.id, "database": dbname, "trigger": trigger, "state": "running",
            "started_at": fields.Datetime.now()})
        started = time.monotonic()
        self.env.cr.execute("SELECT pg_database_size(current_database())")
        db_size = self.env.cr.fetchone()[0]
        try:
            client = self._client()
            key = self._encryption_key()
            self._retry_cleanup(client)
            pg_dump = self._pg_tool("pg_dump")
            manifest = pipeline.backup(
                client, self.bucket, self.prefix, dbname, exec_pg_environ(), key=key,
                compression=self.compression, pg_dump=pg_dump,
                filestore=config.filestore(dbname), include_filestore=self.include_filestore,
                db_size=db_size, extra_args=self._extra_args(), on_part=on_part,
                lock_wait_timeout=self._lock_wait_timeout(),
                info={"odoo": release.version, "profile": self.name})
        except (UserError, pipeline.BackupError, s3lib.S3Error) as exc:
            run._record_failure(exc.args[0] if isinstance(exc, UserError) else str(exc),
                                time.monotonic() - started, db_size,
                                getattr(exc, "leftovers", []))
            return run
        except Exception as exc:  # noqa: BLE001 (a backup always ends in a recorded run)
            _logger.exception("backup of profile %s failed unexpectedly", self.name)
            run._record_failure(f"{type(exc).__name__}: {exc}", time.monotonic() - started,
                                db_size, [])
            return run
        run._record_success(manifest, db_size)
        self._apply_retention(run, client, manifest["backup_id"])
        return run

    def _retry_cleanup(self, client):
        """Abort the uploads and delete the objects that earlier failed runs
        could not clean up (their S3 server was gone)."""
        for run in self.env["selfhost.backup.run"].sudo().search([
                ("profile_id", "=", self.id), ("leftovers", "!=", False)]):
            run.leftovers = run._dump_leftovers(
                pipeline.cleanup(client, self.bucket, run._load_leftovers()))

    def _apply_retention(self, run, client, current):
        try:
            deleted = pipeline.apply_retention(
                client, self.bucket, self.prefix, self.env.cr.dbname, self.keep_count,
                self.keep_days, current=current, page_size=self._list_page_size())
        except (s3lib.S3Error, pipeline.BackupError) as exc:
            run.retention_note = self.env._("Retention failed: %(error)s", error=str(exc))
            self._alert("backup_retention_failed", self.env._(
                "Backup retention failed: %(name)s", name=self.name), str(exc), run)
            return
        run.retention_note = (self.env._("Deleted %(n)s old backups: %(ids)s", n=len(deleted),
                                         ids=", ".join(deleted)) if deleted
                              else self.env._("Nothing to delete."))

    def _alert(self, code, title, message, run):
        """Tell the Owner and Admins: through audit_trail when installed, else
        by a notification on the run."""
        _logger.error("%s: %s", title, message)
        if "audit.alert" in self.env:  # audit_trail is optional
            self.env["audit.event"].log(
                "security_event", code.replace("_", "."), outcome="failure",
                model=run._name, res_id=run.id, res_name=run.display_name,
                details={"profile": self.name, "database": run.database, "error": message[:500]})
            self.env["audit.alert"].raise_alert(code, title, message, severity="critical",
                                                key=f"profile:{self.id}", dedupe_minutes=0)
        else:
            recipients = self.env["res.users"].sudo().search(
                [("groups_id", "in", self.env.ref(ADMIN).id)])
            run.message_notify(partner_ids=recipients.partner_id.ids, subject=title,
                               body=message, email_layout_xmlid="mail.mail_notification_light")

    def _verify_manifest(self, manifest_key):
        """Download a backup and check every hash and GCM tag; UserError if not sound."""
        self.ensure_one()
        self._check_admin()
        try:
            return pipeline.verify(self._client(), self.bucket, manifest_key,
                                   self._encryption_key())
        except (pipeline.BackupError, s3lib.S3Error) as exc:
            raise UserError(str(exc)) from None

    def _restore_manifest(self, manifest_key, new_database):
        """Restore a backup into a new database and filestore; UserError (and
        nothing left behind) on failure."""
        self.ensure_one()
        self._check_admin()
        try:
            result = pipeline.restore(
                self._client(), self.bucket, manifest_key, self._encryption_key(),
                new_database, exec_pg_environ(), pg_restore=self._pg_tool("pg_restore"),
                filestore_root=os.path.dirname(config.filestore(new_database)))
        except (pipeline.BackupError, s3lib.S3Error) as exc:
            if "audit.event" in self.env:  # audit_trail is optional
                self.env["audit.event"].log(
                    "security_event", "backup.restore", outcome="failure", model=self._name,
                    res_id=self.id, res_name=manifest_key,
                    details={"new_database": new_database, "error": str(exc)[:500]})
            raise UserError(self.env._("The restore failed and the new database was removed: "
                                       "%(error)s", error=str(exc))) from None
        if "audit.event" in self.env:
            self.env["audit.event"].log(
                "security_event", "backup.restore", model=self._name, res_id=self.id,
                res_name=manifest_key, details={"new_database": new_database})
        return result

    def _list_backups(self, dbname=None):
        """This profile's backups of this database (or of `dbname`, e.g. a lost
        database restored from another one), newest first."""
        self.ensure_one()
        return pipeline.list_backups(self._client(), self.bucket, self.prefix,
                                     dbname or self.env.cr.dbname,
                                     page_size=self._list_page_size())
