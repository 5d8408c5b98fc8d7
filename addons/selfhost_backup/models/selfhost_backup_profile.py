import logging
import os
import shutil
import time
import uuid
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models, release, sql_db
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, config
from odoo.tools.misc import exec_pg_environ, find_pg_tool

from odoo.addons.security_roles import actor
from odoo.addons.security_roles.models.ir_cron import run_soon

from ..lib import crypto, pipeline
from ..lib import s3 as s3lib

_logger = logging.getLogger(__name__)

OWNER = "security_roles.group_role_owner"
ADMIN = "security_roles.group_role_admin"
# Everything that can lose or expose backups is the Owner's: where they go,
# with which credentials and protection (an Admin could otherwise send the
# stored or configured credentials, and an unencrypted dump holding every
# secret, to a server of theirs), how long they are kept, Object Lock,
# server-side encryption and its key, the schedule, what is included, the
# profile's name (the command line finds it by name) and the profile itself.
# An Admin may only keep backups longer (see _security_owner_change_is_safe).
OWNER_FIELDS = frozenset({
    "name", "active", "endpoint_url", "region", "bucket", "prefix", "addressing_style",
    "checksum_compat", "encrypt", "credentials_source", "config_name",
    "new_access_key_id", "new_secret_access_key", "include_filestore",
    "compression", "sse", "sse_kms_key_id", "object_lock_mode", "object_lock_days", "daily",
    "keep_count", "keep_days"})
# pg_try_advisory_lock(namespace, profile id): one run of a profile at a time
LOCK_NAMESPACE = 0x5B4C
# The stored S3 credentials: columns of the profile's table that no ORM field
# maps, so that no read route (read, search_read, web_read, export_data,
# read_group, a search domain) reaches them, the Owner's included; only the
# server reads them (_stored_credentials), to connect.
CREDENTIAL_COLUMNS = ("access_key_id", "secret_access_key")


class SelfhostBackupProfile(models.Model):
    """Where and how a database is backed up. Secrets never reach a browser or
    an RPC client: credentials come from odoo.conf or the environment, or are
    entered by the Owner into write-only fields and kept in columns only the
    server reads; the key (encryption and manifest authentication) comes from
    the configuration only."""
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
        [("config", "odoo.conf / environment"), ("stored", "Stored here (write-only)")],
        default="config", required=True,
        help="odoo.conf options selfhost_backup_access_key_id / selfhost_backup_secret_access_key "
        "(or environment variables in capitals); without them, the AWS default chain "
        "(AWS_ACCESS_KEY_ID, instance role).")
    config_name = fields.Char(
        help="Read selfhost_backup_<name>_<option> before selfhost_backup_<option>, so that "
        "profiles can use different credentials and keys from the configuration.")
    # write-only: stored in CREDENTIAL_COLUMNS by SQL, never read back
    new_access_key_id = fields.Char(string="Access Key ID", compute="_compute_new_credentials",
                                    inverse="_inverse_new_access_key_id", groups=OWNER)
    new_secret_access_key = fields.Char(string="Secret Access Key",
                                        compute="_compute_new_credentials",
                                        inverse="_inverse_new_secret_access_key", groups=OWNER)
    stored_credentials_set = fields.Boolean(compute="_compute_stored_credentials_set")
    is_owner = fields.Boolean(compute="_compute_is_owner",
                              help="The current user may change where backups go.")
    backup_requested = fields.Boolean(
        readonly=True, copy=False,
        help="Back up now was clicked: the background job backs this profile up shortly.")
    backup_requested_at = fields.Datetime(
        readonly=True, copy=False, help="When Back up now was last clicked.")
    include_filestore = fields.Boolean(default=True)
    compression = fields.Selection([("zstd", "zstd"), ("gzip", "gzip"), ("none", "None")],
                                   default="zstd", required=True)
    encrypt = fields.Boolean(
        string="Client-side encryption", default=True,
        help="AES-256-GCM before upload, with the key from odoo.conf option "
        "selfhost_backup_encryption_key or the environment variable "
        "SELFHOST_BACKUP_ENCRYPTION_KEY (never stored in the database). Every profile needs "
        "that key, encrypted or not: it also authenticates each backup's manifest, without "
        "which a backup is neither restored nor counted by retention.")
    encryption_key_fingerprint = fields.Char(string="Key fingerprint",
                                             compute="_compute_encryption_key_fingerprint")
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
    # security_roles' guard: only the Owner (or a technical-access Admin)
    _security_owner_fields = OWNER_FIELDS
    _security_owner_create = True
    _security_owner_unlink = True

    def init(self):
        # the stored credentials' columns (see CREDENTIAL_COLUMNS): kept from the
        # Char fields they once were, created on a new database
        for column in CREDENTIAL_COLUMNS:
            self.env.cr.execute(SQL("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s varchar",
                                    SQL.identifier(self._table), SQL.identifier(column)))

    def _security_owner_change_is_safe(self, fname, old, new):
        """Keeping backups longer loses and exposes nothing: open to Admins.
        Nothing else is, not even switching a protection on: encryption without
        a configured key, or Object Lock on a bucket without it, fails every
        backup; a compliance lock of years cannot be undone; reviving an archived
        profile sends backups where the Owner stopped sending them."""
        if fname in ("keep_count", "keep_days"):  # 0: no limit
            return new == 0 or (old != 0 and (new or 0) >= old)
        return False

    @api.model_create_multi
    def create(self, vals_list):
        profiles = super().create(vals_list)
        for profile, vals in zip(profiles, vals_list):
            profile._audit_change("backup.profile.create", vals)
        return profiles

    def write(self, vals):
        if "endpoint_url" in vals and not vals.get("new_secret_access_key"):
            # credentials entered for one server are never sent to another one
            moved = self.filtered(
                lambda p: (p.endpoint_url or False) != (vals["endpoint_url"] or False))
        else:
            moved = self.browse()
        result = super().write(vals)
        if moved:
            # the Owner (checked by super().write()) moves the profile
            moved._store_credential("access_key_id", None)
            moved._store_credential("secret_access_key", None)
        if set(vals) - {"backup_requested", "backup_requested_at"}:
            for profile in self:
                profile._audit_change("backup.profile.write", vals)
        return result

    def unlink(self):
        for profile in self:
            profile._audit_change("backup.profile.unlink", {})
        return super().unlink()

    def _audit_change(self, action, vals):
        if "audit.event" in self.env:  # audit_trail is optional
            self.env["audit.event"].log(
                "resource_change", action, model=self._name, res_id=self.id, res_name=self.name,
                # field names only: the credential values never reach the audit trail
                details={"fields": sorted(vals), "endpoint_url": self.endpoint_url or "",
                         "bucket": self.bucket, "encrypt": self.encrypt})

    def _compute_new_credentials(self):
        for profile in self:
            profile.new_access_key_id = False
            profile.new_secret_access_key = False

    def _inverse_new_access_key_id(self):
        for profile in self.filtered("new_access_key_id"):
            profile._store_credential("access_key_id", profile.new_access_key_id.strip())

    def _inverse_new_secret_access_key(self):
        for profile in self.filtered("new_secret_access_key"):
            profile._store_credential("secret_access_key",
                                      profile.new_secret_access_key.strip())

    def _store_credential(self, column, value):
        """Write a stored credential (None clears it). Only the write of an Owner
        field (new_access_key_id...) or the server gets here."""
        assert column in CREDENTIAL_COLUMNS
        ids = tuple(self._origin.ids)
        if ids:
            self.env.cr.execute(SQL("UPDATE %s SET %s = %s WHERE id IN %s",
                                    SQL.identifier(self._table), SQL.identifier(column),
                                    value or None, ids))
        self.invalidate_recordset(["stored_credentials_set"])

    def _stored_credentials(self):
        """{profile id: (access key id, secret access key)}, read by the server only."""
        ids = tuple(i for i in self._origin.ids if i)
        if not ids:
            return {}
        self.env.cr.execute(SQL("SELECT id, %s, %s FROM %s WHERE id IN %s",
                                *map(SQL.identifier, CREDENTIAL_COLUMNS),
                                SQL.identifier(self._table), ids))
        return {row[0]: (row[1], row[2]) for row in self.env.cr.fetchall()}

    def _compute_is_owner(self):
        owner = self.env["res.users"]._security_technical_actor()
        for profile in self:
            profile.is_owner = owner

    def _compute_stored_credentials_set(self):
        # tells the Owner and Admins whether credentials are set, never the values
        stored = self._stored_credentials()
        for profile in self:
            access_key, secret_key = stored.get(profile._origin.id, (None, None))
            profile.stored_credentials_set = bool(access_key and secret_key)

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

    def _storage_path(self):
        return ((self.endpoint_url or "").strip().rstrip("/"), (self.bucket or "").strip(),
                (self.prefix or "").strip().strip("/"))

    @api.constrains("endpoint_url", "bucket", "prefix")
    def _check_unique_storage_path(self):
        """Two profiles storing to the same path would apply their retention to each
        other's backups (the path holds the database name, not the profile)."""
        others = self.with_context(active_test=False).search([("id", "not in", self.ids)])
        for profile in self:
            path = profile._storage_path()
            clash = others.filtered(lambda p: p._storage_path() == path)
            if clash:
                raise ValidationError(self.env._(
                    "Profile %(other)s already stores its backups in this bucket under this "
                    "prefix: give each profile its own prefix (retention would otherwise "
                    "delete the other profile's backups).", other=clash[0].name))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_backup_now(self):
        """Ask the background job for a backup: a backup can take longer than
        Odoo lets a web request live (limit_time_real)."""
        self._check_admin()
        self._check_manual_interval()
        # sudo: Admins ask; the flag is the system's
        self.sudo().write({"backup_requested": True,
                           "backup_requested_at": fields.Datetime.now()})
        run_soon(self.env.ref("selfhost_backup.ir_cron_selfhost_backup_requested"))
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "info", "title": self.env._("Backup started"),
            "message": self.env._("The backup runs in the background; its run appears in the "
                                  "profile's runs, and the Owner and Admins are alerted if it "
                                  "fails."),
            "next": {"type": "ir.actions.act_window_close"},
        }}

    @api.model
    def _param_number(self, key, default):
        """A non-negative number from a system parameter (the Owner's), or `default`."""
        # sudo: Admins run backups; the parameters are the Owner's to set
        value = self.env["ir.config_parameter"].sudo().get_param(key)
        try:
            return max(float(value), 0.0) if value else default
        except ValueError:
            return default

    def _check_manual_interval(self):
        """Backups on demand, at most one an hour per profile for Admins
        (selfhost_backup.manual_interval_minutes, the Owner's): a burst of
        backups would push the older ones out of the retention count."""
        if self.env["res.users"]._security_technical_actor():
            return
        minutes = int(self._param_number("selfhost_backup.manual_interval_minutes", 60))
        since = fields.Datetime.now() - timedelta(minutes=minutes)
        # sudo: the run history is the system's; only its dates are compared
        recent = self.env["selfhost.backup.run"].sudo().search_count([
            ("profile_id", "in", self.ids), ("trigger", "=", "manual"),
            ("started_at", ">=", since)])
        asked = [when for when in self.sudo().mapped("backup_requested_at") if when]
        if recent or any(self.sudo().mapped("backup_requested")) or \
                (asked and max(asked) >= since):
            raise UserError(self.env._(
                "A backup of this profile was asked for less than %(minutes)s minutes ago. "
                "Backups on demand are spaced so that they cannot push older backups out of "
                "the retention count; the Owner is not limited.", minutes=minutes))

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
        # the principal (security_roles.actor), not env.user: sudo()/with_user()
        # in a caller must not make anyone an Admin
        # sudo: a role is not secret
        role = self.env["res.users"].sudo().browse(actor.acting_uid(self.env)).security_role
        if not (actor.is_server(self.env) or role in ("admin", "owner")):
            raise AccessError(self.env._("Only the Owner and Admins can run backups and restores."))

    def _check_owner_restore(self):
        # a restore creates a database (even with list_db = False) holding every secret of
        # this one: the Owner's, from the web; the host's administrator, from the command
        if not self.env["res.users"]._security_technical_actor():
            raise AccessError(self.env._("Only the Owner can restore a backup from the web "
                                         "interface."))

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
            access_key, secret_key = self._stored_credentials().get(self.id, (None, None))
            if not (access_key and secret_key):
                raise UserError(self.env._(
                    "Profile %(name)s uses stored credentials, but the Owner has not entered "
                    "them yet.", name=self.name))
            return access_key, secret_key
        return self._config_value("access_key_id"), self._config_value("secret_access_key")

    def _backup_key(self):
        """The profile's key: it encrypts the backups when `encrypt` is on, and
        authenticates every manifest in any case; backup, verify, restore and
        retention refuse to run without it."""
        raw = self._config_value("encryption_key")
        if not raw:
            option = "selfhost_backup_encryption_key"
            if self.config_name:
                option = f"selfhost_backup_{self.config_name.strip()}_encryption_key or {option}"
            raise UserError(self.env._(
                "No backup key is configured for profile %(name)s: set %(option)s in odoo.conf "
                "(or the environment variable in capitals) to the output of `openssl rand "
                "-base64 32`, and keep a copy of it away from the server. Every profile needs "
                "it, encrypted or not: it authenticates each backup, and backups cannot be "
                "verified, restored or kept by retention without it.",
                name=self.name, option=option))
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
        raw = self.env["ir.config_parameter"].sudo().get_param(
            "selfhost_backup.list_page_size", "1000")
        try:
            return min(max(int(raw), 1), 1000)
        except (TypeError, ValueError):
            _logger.warning("selfhost_backup.list_page_size is not a number (%r): using 1000", raw)
            return 1000

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
    def _spool_dir(self):
        """Where parts above 32 MiB are spooled: selfhost_backup_spool_dir, or Odoo's
        data_dir (on disk; /tmp is often a small tmpfs, i.e. memory)."""
        path = config.get("selfhost_backup_spool_dir") or os.path.join(
            config["data_dir"], "selfhost_backup_spool")
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path

    @api.model
    def _staging_marker_dir(self):
        """Where restores record the staging databases they create: only those are
        ever dropped as abandoned (per server: its data_dir)."""
        return os.path.join(config["data_dir"], "selfhost_backup", "stagings")

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

    @api.model
    def _cron_requested_backups(self):
        """The backups asked for with Back up now (run here, not in the web request,
        which Odoo kills after limit_time_real)."""
        for profile in self.search([("backup_requested", "=", True)]):
            profile._run_backup(trigger="manual")

    def _run_backup(self, trigger="manual", on_part=None):
        """Back this database up with this profile. Never raises for a failed
        backup: the run records it (status, error) and the Owner and Admins
        are alerted. Returns the run.

        The work runs on a cursor of its own: the run is committed as
        "running" before anything starts, so that a process killed meanwhile
        (limit_time_real, OOM) leaves a run that the next run of the profile
        marks failed (and alerts about); its open uploads are then aborted.
        The caller must not hold uncommitted writes to this profile (the other
        cursor would wait for them)."""
        self.ensure_one()
        self.env.flush_all()  # the other cursor sees what the caller wrote
        with self.env.registry.cursor() as cr:
            profile = self.with_env(self.env(cr=cr))
            run_id = profile._run_backup_locked(trigger, on_part)
        self.env.invalidate_all()
        return self.env["selfhost.backup.run"].browse(run_id)

    def _run_backup_locked(self, trigger, on_part):
        cr = self.env.cr
        # sudo: the run history is written by the backup itself; Admins only read it
        Run = self.env["selfhost.backup.run"].sudo()
        values = {"profile_id": self.id, "database": cr.dbname, "trigger": trigger,
                  "state": "running", "started_at": fields.Datetime.now()}
        # a session lock (not a transaction one: the run is committed before the work)
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, self.id))
        if not cr.fetchone()[0]:
            run = Run.create(values)
            run._record_failure(self.env._("Another backup of this profile is still running."),
                                0, 0, [])
            cr.commit()
            return run.id
        run = Run
        try:
            self._fail_stale_runs()
            if self.backup_requested:
                self.sudo().backup_requested = False  # sudo: the system clears the request
            run = Run.create(values)
            try:
                cr.commit()
                self._do_backup(run, on_part)
            except BaseException as exc:
                # KeyboardInterrupt, SystemExit (SIGTERM in the command): record it, then
                # stop; also when the signal came while the run's COMMIT returned (the
                # run exists then, though commit() did not return)
                cr.rollback()
                if run.exists():
                    run._record_failure(self.env._("Interrupted: %(error)s",
                                                   error=type(exc).__name__), 0, 0, [])
                    cr.commit()
                raise
            cr.commit()
        except BaseException:
            cr.rollback()  # an unrecorded failure: the run stays "running" for the next run
            raise
        finally:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, self.id))
        return run.id

    def _fail_stale_runs(self):
        """Runs of this profile still "running" while we hold its lock: their process
        was killed (limit_time_real / limit_time_real_cron, out of memory, restart)."""
        for stale in self.env["selfhost.backup.run"].sudo().search([
                ("profile_id", "=", self.id), ("state", "=", "running")]):
            stale._record_failure(self.env._(
                "Interrupted: the process running this backup stopped before it ended (killed "
                "by limit_time_real / limit_time_real_cron, out of memory, or a restart). Its "
                "unfinished uploads are aborted by the next run."), 0, 0, [])

    def _pg_env(self):
        """The environment of pg_dump / pg_restore: Odoo's database settings
        (with db_sslmode), without this module's secrets (encryption key...)."""
        env = {name: value for name, value in exec_pg_environ().items()
               if not name.upper().startswith("SELFHOST_BACKUP_")}
        if config.get("db_sslmode") and config["db_sslmode"] != "prefer":
            env["PGSSLMODE"] = config["db_sslmode"]
        return env

    def _do_backup(self, run, on_part=None):
        dbname = self.env.cr.dbname
        started = time.monotonic()
        self.env.cr.execute("SELECT pg_database_size(current_database())")
        db_size = self.env.cr.fetchone()[0]
        try:
            key = self._backup_key()
            client = self._client()
            self._retry_cleanup(client)
            self._abort_orphan_uploads(client)
            pg_dump = self._pg_tool("pg_dump")
            manifest = pipeline.backup(
                client, self.bucket, self.prefix, dbname, self._pg_env(), key=key,
                encrypt=self.encrypt, compression=self.compression, pg_dump=pg_dump,
                filestore=config.filestore(dbname), include_filestore=self.include_filestore,
                db_size=db_size, extra_args=self._extra_args(), on_part=on_part,
                lock_wait_timeout=self._lock_wait_timeout(), spool_dir=self._spool_dir(),
                info={"odoo": release.version, "profile": self.name})
        except (UserError, pipeline.BackupError, s3lib.S3Error) as exc:
            run._record_failure(exc.args[0] if isinstance(exc, UserError) else str(exc),
                                time.monotonic() - started, db_size,
                                getattr(exc, "leftovers", []))
            return
        except Exception as exc:  # noqa: BLE001 (a backup always ends in a recorded run)
            _logger.exception("backup of profile %s failed unexpectedly", self.name)
            run._record_failure(f"{type(exc).__name__}: {exc}", time.monotonic() - started,
                                db_size, [])
            return
        run._record_success(manifest, db_size)
        self._apply_retention(run, client, key, manifest["backup_id"])

    def _abort_orphan_uploads(self, client):
        """Abort the multipart uploads under this profile's path that a killed run
        left open (S3 keeps, and bills, their parts until then). Only uploads older
        than selfhost_backup.orphan_upload_hours (default 12): another server backing
        up a database of the same name to the same path is not disturbed."""
        hours = self._param_number("selfhost_backup.orphan_upload_hours", 12)
        before = datetime.now(timezone.utc) - timedelta(hours=hours)
        base = pipeline.base_prefix(self.prefix, self.env.cr.dbname)
        try:
            for key, upload_id, initiated in s3lib.list_uploads(client, self.bucket, base,
                                                                initiated=True):
                if initiated is None or initiated <= before:
                    _logger.info("aborting the orphan upload of %s", key)
                    s3lib.abort_upload(client, self.bucket, key, upload_id)
        except s3lib.S3Error as exc:
            # the backup itself then reports what is wrong with the bucket or server
            _logger.warning("orphan uploads of profile %s not cleaned: %s", self.name, exc)

    def _retry_cleanup(self, client):
        """Abort the uploads and delete the objects that earlier failed runs
        could not clean up (their S3 server was gone)."""
        for run in self.env["selfhost.backup.run"].sudo().search([
                ("profile_id", "=", self.id), ("leftovers", "!=", False)]):
            run.leftovers = run._dump_leftovers(
                pipeline.cleanup(client, self.bucket, run._load_leftovers()))

    def _apply_retention(self, run, client, key, current):
        try:
            result = pipeline.apply_retention(
                client, self.bucket, self.prefix, self.env.cr.dbname, self.keep_count,
                self.keep_days, key=key, current=current, page_size=self._list_page_size())
        except (s3lib.S3Error, pipeline.BackupError) as exc:
            run.retention_note = self.env._("Retention failed: %(error)s", error=str(exc))
            self._alert("backup_retention_failed", self.env._(
                "Backup retention failed: %(name)s", name=self.name), str(exc), run)
            return
        deleted, rejected = result["deleted"], result["rejected"]
        notes = [self.env._("Deleted %(n)s old backups: %(ids)s", n=len(deleted),
                            ids=", ".join(deleted)) if deleted
                 else self.env._("Nothing to delete.")]
        if rejected:
            listing = "\n".join(f"{bid}: {reason}" for bid, reason in rejected[:20])
            if len(rejected) > 20:
                listing += "\n…"
            notes.append(self.env._(
                "%(n)s backup sets neither counted nor deleted: their manifest does not "
                "authenticate with this profile's key.", n=len(rejected)))
            # once per run, whatever the number of sets
            self._alert("backup_unauthenticated", self.env._(
                "Unauthenticated backups found: %(name)s", name=self.name), self.env._(
                "%(n)s backup sets under the path of profile %(name)s have a manifest that "
                "does not authenticate with its key (planted, altered, copied from another "
                "backup, or written unencrypted before every backup was authenticated). "
                "Retention neither counts nor deletes them; check who can write to the bucket, "
                "and delete them by hand once checked:\n%(sets)s",
                n=len(rejected), name=self.name, sets=listing), run)
        run.retention_note = "\n".join(notes)

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
                                   self._backup_key())
        except (pipeline.BackupError, s3lib.S3Error) as exc:
            raise UserError(str(exc)) from None

    def _restore_manifest(self, manifest_key, new_database, neutralize=True):
        """Restore a backup into a new database and filestore; UserError (and
        nothing left behind) on failure. With `neutralize` (always from the web),
        the copy cannot act as this database: Odoo's neutralization (scheduled
        actions and mail servers off...), a new database.uuid and database.secret,
        and no stored backup credentials."""
        self.ensure_one()
        self._check_admin()
        filestore_root = os.path.dirname(config.filestore(new_database))
        key = self._backup_key()
        try:
            result = pipeline.restore(
                self._client(), self.bucket, manifest_key, key, new_database, self._pg_env(),
                pg_restore=self._pg_tool("pg_restore"), filestore_root=filestore_root,
                marker_dir=self._staging_marker_dir(), spool_dir=self._spool_dir())
            if neutralize:
                try:
                    self._neutralize_restored(new_database)
                except Exception as exc:
                    pipeline._drop_database(self._pg_env(), new_database)
                    shutil.rmtree(os.path.join(filestore_root, new_database), ignore_errors=True)
                    raise pipeline.BackupError(f"the restored copy could not be neutralized: "
                                               f"{exc}") from exc
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

    @api.model
    def _neutralize_restored(self, dbname):
        from odoo.modules.neutralize import neutralize_database  # noqa: PLC0415
        try:
            with sql_db.db_connect(dbname).cursor() as cr:
                neutralize_database(cr)  # includes this module's data/neutralize.sql
                # what ir.config_parameter.init(force=True) does: a new identity
                for key, value in (("database.uuid", str(uuid.uuid1())),
                                   ("database.secret", str(uuid.uuid4()))):
                    cr.execute("UPDATE ir_config_parameter SET value = %s WHERE key = %s",
                               [value, key])
        finally:
            sql_db.close_db(dbname)

    def _list_backups(self, dbname=None):
        """This profile's backups of this database (or of `dbname`, e.g. a lost
        database restored from another one), newest first."""
        self.ensure_one()
        key = self._backup_key()
        return pipeline.list_backups(self._client(), self.bucket, self.prefix,
                                     dbname or self.env.cr.dbname, key,
                                     page_size=self._list_page_size())
