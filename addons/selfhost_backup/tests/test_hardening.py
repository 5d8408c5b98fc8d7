"""Fixes of the security review: who may move a profile, runs killed by Odoo's
time limits, orphan uploads, one run of a profile at a time."""
import os
from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from ..lib import pipeline
from ..lib import s3 as s3lib
from ..models import selfhost_backup_profile as profile_module
from .common import BackupCase, drop_database, pg_connect


@tagged("post_install", "-at_install")
class TestProfileChanges(BackupCase):
    def test_admin_cannot_redirect_backups_or_turn_encryption_off(self):
        profile = self.make_profile()
        as_admin = profile.with_user(self.admin)
        for vals in ({"endpoint_url": "http://127.0.0.1:9999"}, {"encrypt": False},
                     {"bucket": "elsewhere"}, {"prefix": "other"},
                     {"credentials_source": "config"}, {"config_name": "prod"}):
            with self.assertRaisesRegex(AccessError, "Only the Owner", msg=str(vals)):
                as_admin.write(vals)
        with self.assertRaisesRegex(AccessError, "Only the Owner"):
            self.env["selfhost.backup.profile"].with_user(self.admin).create({
                "name": "admin's", "bucket": "b", "endpoint_url": "http://127.0.0.1:9999",
                "credentials_source": "config"})
        self.assertEqual(profile.endpoint_url, self.s3["ENDPOINT"])
        self.assertTrue(profile.encrypt)
        # keeping more, or an unchanged value, stays open to Admins (fewer: test_owner_only)
        as_admin.write({"keep_days": 0, "daily": True, "endpoint_url": self.s3["ENDPOINT"]})
        self.assertTrue(profile.daily)
        # a limit where there was none loses backups
        with self.assertRaisesRegex(AccessError, "Only the Owner"):
            as_admin.write({"keep_count": 30})

    def test_owner_moving_the_endpoint_clears_stored_credentials(self):
        profile = self.make_profile()
        self.assertTrue(profile.stored_credentials_set)
        as_owner = profile.with_user(self.owner)
        as_owner.write({"keep_days": 9})
        self.assertTrue(self.stored_credentials(profile)[1])
        as_owner.write({"endpoint_url": "http://127.0.0.1:9999"})
        self.assertEqual(self.stored_credentials(profile), (None, None))
        self.assertFalse(profile.stored_credentials_set)
        # unless the Owner enters credentials for the new server at the same time
        as_owner.write({"endpoint_url": self.s3["ENDPOINT"],
                        "new_access_key_id": self.s3["ACCESS_KEY"],
                        "new_secret_access_key": self.s3["SECRET_KEY"]})
        self.assertEqual(self.stored_credentials(profile),
                         (self.s3["ACCESS_KEY"], self.s3["SECRET_KEY"]))

    def test_profile_changes_are_audited_without_secrets(self):
        profile = self.make_profile()
        profile.with_user(self.owner).write({"encrypt": False, "new_secret_access_key": "s3kr1t"})
        events = self.env["audit.event"].search([("action", "=", "backup.profile.write"),
                                                 ("res_id", "=", profile.id),
                                                 ("model", "=", profile._name)])
        self.assertTrue(events)
        self.assertTrue(any("encrypt" in (e.details or "") for e in events))
        self.assertNotIn("s3kr1t", repr(events.mapped("details")))
        self.assertTrue(self.env["audit.event"].search([
            ("action", "=", "backup.profile.create"), ("res_id", "=", profile.id)]))

    def test_only_the_owner_restores_from_the_web(self):
        profile = self.make_profile(include_filestore=False)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        target = self.new_db_name()
        with self.assertRaisesRegex(AccessError, "Only the Owner can restore"):
            run.with_user(self.admin)._restore(target)
        with self.assertRaisesRegex(AccessError, "Only the Owner can restore"):
            run.with_user(self.admin).action_open_restore()
        self.assertFalse(self.database_exists(target))
        # the Admin still verifies
        run.with_user(self.admin).action_verify()
        self.assertEqual(run.verify_state, "ok", run.verify_message)

    def test_two_profiles_cannot_share_a_storage_path(self):
        first = self.make_profile()
        with self.assertRaisesRegex(ValidationError, f"Profile {first.name} already stores"):
            self.make_profile(prefix=f"/{self.prefix}/", keep_count=1)
        with self.assertRaisesRegex(ValidationError, "already stores"):
            self.make_profile(prefix=self.prefix + "-2").write({"prefix": self.prefix})
        self.make_profile(bucket="another-bucket")  # another bucket is another path

    def test_restore_drops_only_the_stagings_this_server_recorded(self):
        """A restore first drops the staging copies that killed restores left: only
        those this server recorded (a marker under its data_dir), never another
        database on the PostgreSQL server that is merely named like one."""
        profile = self.make_profile(include_filestore=False)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        pg_env, markers = profile._pg_env(), profile._staging_marker_dir()
        lookalike = f"{self.env.cr.dbname}{pipeline.STAGING_MARK}0badc0de"
        pipeline._create_database(pg_env, lookalike)
        self.addCleanup(drop_database, lookalike)
        # a restore killed after it created its staging copy: marker, no lock
        abandoned = f"{self.env.cr.dbname[:20]}{pipeline.STAGING_MARK}{os.urandom(4).hex()}"
        self.addCleanup(drop_database, abandoned)
        pipeline.begin_staging(pg_env, markers, abandoned).close()
        self.assertTrue(os.path.exists(os.path.join(markers, abandoned)))

        target = self.new_db_name()
        run._restore(target)
        self.assertTrue(self.database_exists(target))
        self.assertFalse(self.database_exists(abandoned))
        self.assertFalse(os.path.exists(os.path.join(markers, abandoned)))
        self.assertTrue(self.database_exists(lookalike), "not recorded by this server: kept")
        self.assertFalse([name for name in os.listdir(markers) if name.startswith(target[:40])],
                         "the restore's own marker is gone once its copy is renamed")

    def test_pg_tools_do_not_inherit_the_encryption_key(self):
        profile = self.make_profile()
        with patch.dict(os.environ, {"SELFHOST_BACKUP_ENCRYPTION_KEY": "secret-key-value"}):
            env = profile._pg_env()
        self.assertNotIn("SELFHOST_BACKUP_ENCRYPTION_KEY", env)
        self.assertIn("PATH", env)


@tagged("post_install", "-at_install")
class TestLongRuns(BackupCase):
    def test_stale_running_run_is_failed_and_alerted_at_the_next_run(self):
        profile = self.make_profile(include_filestore=False)
        stale = self.env["selfhost.backup.run"].create({
            "profile_id": profile.id, "database": self.env.cr.dbname, "trigger": "cron",
            "state": "running", "started_at": "2026-01-01 00:00:00"})
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(stale.state, "failed")
        self.assertIn("limit_time_real", stale.error)
        alerts = self.env["audit.alert"].search([("code", "=", "backup_failed"),
                                                 ("key", "=", f"profile:{profile.id}")])
        self.assertTrue(alerts, "the Owner and Admins are alerted about the killed run")

    def test_orphan_uploads_under_the_profile_path_are_aborted(self):
        profile = self.make_profile(include_filestore=False)
        base = f"{self.prefix}/{self.env.cr.dbname}/"
        orphan = self.client.create_multipart_upload(
            Bucket=self.s3["BUCKET"], Key=f"{base}20260101T000000Z-0000beef/db.dump.zst.aes")
        other_prefix = f"{self.prefix}-other/{self.env.cr.dbname}/x/db.dump"
        other = self.client.create_multipart_upload(Bucket=self.s3["BUCKET"], Key=other_prefix)
        self.addCleanup(s3lib.abort_upload, self.client, self.s3["BUCKET"], other_prefix,
                        other["UploadId"])
        # young uploads are left alone (another server may be uploading right now)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual([u[1] for u in self.uploads()], [orphan["UploadId"]])
        self.env["ir.config_parameter"].set_param("selfhost_backup.orphan_upload_hours", "0")
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        self.assertFalse(self.uploads())
        self.assertEqual(
            [u[1] for u in s3lib.list_uploads(self.client, self.s3["BUCKET"], other_prefix)],
            [other["UploadId"]], "uploads outside the profile's path are not touched")

    def test_backup_now_runs_in_the_background_job(self):
        profile = self.make_profile(include_filestore=False)
        cron = self.env.ref("selfhost_backup.ir_cron_selfhost_backup_requested")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        action = profile.with_user(self.admin).action_backup_now()
        self.assertEqual(action["params"]["title"], "Backup started")
        self.assertFalse(profile.run_ids, "no backup inside the web request")
        self.assertTrue(profile.backup_requested)
        self.assertGreater(self.env["ir.cron.trigger"].search_count(
            [("cron_id", "=", cron.id)]), len(triggers))
        other = self.make_profile(include_filestore=False, daily=True,
                                  prefix=self.prefix + "-other")
        cron.method_direct_trigger()
        self.assertEqual(profile.run_ids.mapped("state"), ["done"], profile.run_ids.error)
        self.assertEqual(profile.run_ids.trigger, "manual")
        self.assertFalse(profile.backup_requested)
        self.assertFalse(other.run_ids, "only the profiles asked for")

    def test_second_run_of_a_profile_is_refused_while_one_runs(self):
        profile = self.make_profile(include_filestore=False)
        lock = (profile_module.LOCK_NAMESPACE, profile.id)
        holder = pg_connect(self.env.cr.dbname)
        self.addCleanup(holder.close)
        with holder.cursor() as cr:
            cr.execute("SELECT pg_advisory_lock(%s, %s)", lock)
        run = profile._run_backup()
        self.assertEqual(run.state, "failed")
        self.assertIn("still running", run.error)
        self.assertFalse(self.stored_keys())
        with holder.cursor() as cr:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", lock)
        self.assertEqual(profile._run_backup().state, "done")

    def test_bad_list_page_size_does_not_lose_a_good_backup(self):
        self.env["ir.config_parameter"].set_param("selfhost_backup.list_page_size", "lots")
        profile = self.make_profile(include_filestore=False, keep_count=2)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        self.assertIn("Nothing to delete", run.retention_note)

    def test_large_parts_spool_under_the_data_dir(self):
        from odoo.tools import config  # noqa: PLC0415
        path = self.env["selfhost.backup.profile"]._spool_dir()
        self.assertEqual(path, os.path.join(config["data_dir"], "selfhost_backup_spool"))
        self.assertTrue(os.path.isdir(path))
