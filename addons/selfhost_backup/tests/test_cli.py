import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import odoo
from odoo.tests import tagged
from odoo.tools import config

from .common import BackupCase, committed_env, pg_connect, row_counts

ODOO_BIN = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"


@tagged("post_install", "-at_install")
class TestCommand(BackupCase):
    """`odoo-bin selfhost-backup` as the host's cron runs it: the configuration
    file of the test server (list_db = False), credentials and key from the
    environment, on committed data."""

    def setUp(self):
        super().setUp()
        self.assertFalse(config["list_db"], "the command must work with list_db = False")
        self.dbname = self.env.cr.dbname
        self.profile_name = "cli " + secrets.token_hex(3)
        with committed_env(self.dbname) as env:
            profile = env["selfhost.backup.profile"].create({
                "name": self.profile_name, "endpoint_url": self.s3["ENDPOINT"],
                "bucket": self.s3["BUCKET"], "prefix": self.prefix, "addressing_style": "path",
                "credentials_source": "config", "config_name": "cli", "keep_count": 2})
            self.profile_id = profile.id
        self.addCleanup(self._remove_profile)
        self.env_vars = dict(
            os.environ, SELFHOST_BACKUP_CLI_ACCESS_KEY_ID=self.s3["ACCESS_KEY"],
            SELFHOST_BACKUP_CLI_SECRET_ACCESS_KEY=self.s3["SECRET_KEY"],
            SELFHOST_BACKUP_CLI_ENCRYPTION_KEY=base64.b64encode(secrets.token_bytes(32)).decode())

    def _remove_profile(self):
        with committed_env(self.dbname) as env:
            profile = env["selfhost.backup.profile"].browse(self.profile_id)
            env["selfhost.backup.run"].search([("profile_id", "=", profile.id)]).unlink()
            profile.unlink()

    def command(self, *args):
        cmd = [sys.executable, str(ODOO_BIN), f"--addons-path={config['addons_path']}",
               "selfhost-backup", "-c", config.rcfile, "-d", self.dbname,
               "--profile", self.profile_name, "--log-level=warn", *args]
        proc = subprocess.run(cmd, env=self.env_vars, capture_output=True, text=True,
                              timeout=600)
        return proc.returncode, proc.stdout + proc.stderr

    def test_backup_list_verify_restore(self):
        code, out = self.command("backup")
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"backup \d{8}T\d{6}Z-[0-9a-f]{8} done")
        with committed_env(self.dbname) as env:
            run = env["selfhost.backup.run"].search([("profile_id", "=", self.profile_id)])
            self.assertEqual((run.state, run.trigger), ("done", "cli"))
            backup_id = run.backup_id
        # a manifest planted by someone who can write to the bucket, dated a bit later
        base = f"{self.prefix}/{self.dbname}/"
        planted = self.put_backup_set(base, datetime.now(timezone.utc) + timedelta(minutes=5),
                                      "0badc0de", signed=False)
        code, out = self.command("list")
        self.assertEqual(code, 0, out)
        self.assertIn(f"{backup_id}  complete", out)
        self.assertIn(f"{planted}  REJECTED (", out)
        self.assertIn("is not authenticated", out)
        code, out = self.command("--from-database", "another_database", "list")
        self.assertEqual(code, 0, out)
        self.assertNotIn(backup_id, out)
        code, out = self.command("verify")
        self.assertEqual(code, 0, out)
        self.assertIn(f"backup {backup_id} verified", out)

        target = self.new_db_name()
        code, out = self.command("--new-database", target, "restore")
        self.assertEqual(code, 0, out)
        self.assertIn(f"restored into the new database {target}", out)
        counts = row_counts(target)
        self.assertEqual(counts["selfhost_backup_profile"],
                         row_counts(self.dbname)["selfhost_backup_profile"])
        with pg_connect(target).cursor() as cr:
            cr.execute("SELECT value FROM ir_config_parameter "
                       "WHERE key = 'database.is_neutralized'")
            self.assertEqual(cr.fetchone(), ("true",), "a restored copy is neutralized")
            cr.connection.close()
        live = self.new_db_name()
        code, out = self.command("--new-database", live, "--no-neutralize", "restore")
        self.assertEqual(code, 0, out)
        with pg_connect(live).cursor() as cr:
            cr.execute("SELECT value FROM ir_config_parameter "
                       "WHERE key = 'database.is_neutralized'")
            self.assertIsNone(cr.fetchone(), "--no-neutralize: a replacement of the lost database")
            cr.connection.close()
        # an existing database is refused
        code, out = self.command("--new-database", self.dbname, "restore")
        self.assertEqual(code, 1, out)
        self.assertIn("already exists", out)

    def test_failed_backup_exits_non_zero(self):
        self.env_vars["SELFHOST_BACKUP_CLI_SECRET_ACCESS_KEY"] = "wrong"
        code, out = self.command("backup")
        self.assertEqual(code, 1, out)
        self.assertIn("backup FAILED", out)
        self.assertIn("access denied", out)

    def _start_and_stop(self, signum):
        """Start a backup, wait until its run is committed as "running" (seen from
        another connection, as an operator would), then send `signum`."""
        with committed_env(self.dbname) as env:
            # slower, so that the signal arrives while it uploads
            env["selfhost.backup.profile"].browse(self.profile_id).compression = "none"
        cmd = [sys.executable, str(ODOO_BIN), f"--addons-path={config['addons_path']}",
               "selfhost-backup", "-c", config.rcfile, "-d", self.dbname,
               "--profile", self.profile_name, "--log-level=warn", "backup"]
        proc = subprocess.Popen(cmd, env=self.env_vars, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        conn = pg_connect(self.dbname)
        self.addCleanup(conn.close)
        deadline = time.monotonic() + 120
        state = None
        while time.monotonic() < deadline and proc.poll() is None:
            with conn.cursor() as cr:
                cr.execute("SELECT state FROM selfhost_backup_run WHERE profile_id = %s",
                           [self.profile_id])
                row = cr.fetchone()
            state = row and row[0]
            if state:
                break
            time.sleep(0.02)
        self.assertEqual(state, "running", "the run is committed before the backup works")
        proc.send_signal(signum)
        out = proc.communicate(timeout=300)[0]
        return proc.returncode, out

    def _runs(self):
        with committed_env(self.dbname) as env:
            return [(r.state, r.error or "") for r in env["selfhost.backup.run"].search(
                [("profile_id", "=", self.profile_id)], order="id")]

    def test_sigterm_records_the_interrupted_run_and_aborts_uploads(self):
        code, out = self._start_and_stop(signal.SIGTERM)
        self.assertEqual(code, 128 + signal.SIGTERM, out)
        ((state, error),) = self._runs()
        self.assertEqual(state, "failed")
        self.assertIn("Interrupted", error)
        self.assertFalse(self.uploads(), "the open upload was aborted")
        self.assertFalse(self.stored_keys())

    def test_killed_run_is_failed_by_the_next_run(self):
        """SIGKILL (what Odoo does past limit_time_real): nothing runs any more in
        the process; the next run fails the stale run, alerts, and aborts its upload."""
        code, out = self._start_and_stop(signal.SIGKILL)
        self.assertEqual(code, -signal.SIGKILL, out)
        self.assertEqual(self._runs()[0][0], "running")
        with committed_env(self.dbname) as env:
            env["ir.config_parameter"].set_param("selfhost_backup.orphan_upload_hours", "0")
        self.addCleanup(self._reset_orphan_hours)
        code, out = self.command("backup")
        self.assertEqual(code, 0, out)
        (killed, _error), (done, _none) = self._runs()
        self.assertEqual((killed, done), ("failed", "done"))
        self.assertIn("limit_time_real", self._runs()[0][1])
        self.assertFalse(self.uploads(), "the killed run's upload was aborted")
        with committed_env(self.dbname) as env:
            self.assertTrue(env["audit.alert"].search([
                ("code", "=", "backup_failed"), ("key", "=", f"profile:{self.profile_id}")]))

    def _reset_orphan_hours(self):
        with committed_env(self.dbname) as env:
            env["ir.config_parameter"].set_param("selfhost_backup.orphan_upload_hours", False)
