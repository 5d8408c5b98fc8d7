import json
import shutil
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import config

from ..lib import retention
from .common import BackupCase


@tagged("post_install", "-at_install")
class TestRetention(BackupCase):
    def setUp(self):
        super().setUp()
        # small pages: the listing must follow continuation tokens
        self.env["ir.config_parameter"].set_param("selfhost_backup.list_page_size", "2")
        self.base = f"{self.prefix}/{self.env.cr.dbname}/"

    def put(self, key, body=b"x"):
        self.client.put_object(Bucket=self.s3["BUCKET"], Key=key, Body=body)

    def old_set(self, days_ago, token, complete=True):
        """A backup of `days_ago` (signed with the key), or the objects a failed run
        left (no manifest)."""
        when = datetime.now(timezone.utc) - timedelta(days=days_ago)
        if complete:
            return self.put_backup_set(self.base, when, token)
        backup_id = when.strftime("%Y%m%dT%H%M%SZ") + "-" + token
        self.put(f"{self.base}{backup_id}/db.dump.zst.aes")
        self.put(f"{self.base}{backup_id}/filestore.tar.zst.aes")
        return backup_id

    def backup_ids(self):
        return sorted({k[len(self.base):].split("/")[0] for k in self.stored_keys(self.base)
                       if k.endswith("/manifest.json")})

    def test_keep_count_and_age_only_own_keys(self):
        old = [self.old_set(days, f"0{days:07d}") for days in (2, 3, 4, 5, 40)]
        stale_incomplete = self.old_set(3, "aaaaaaaa", complete=False)
        fresh_incomplete = self.old_set(0, "bbbbbbbb", complete=False)
        foreign = [f"{self.base}notes.txt",                      # not our naming
                   f"{self.base}{old[2]}/other.bin",              # not one of our objects
                   f"{self.prefix}/other_database/{old[0]}/manifest.json",  # another database
                   f"{self.prefix}-sibling/{self.env.cr.dbname}/{old[0]}/manifest.json"]
        for key in foreign:
            self.put(key)
        profile = self.make_profile(include_filestore=False, keep_count=3, keep_days=30)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        # the new backup and the two newest old ones; 40 days old is gone by age anyway
        self.assertEqual(self.backup_ids(), sorted([run.backup_id, old[0], old[1]]))
        keys = self.stored_keys(self.base)
        self.assertFalse([k for k in keys if stale_incomplete in k])
        self.assertTrue([k for k in keys if fresh_incomplete in k], "a run may be in progress")
        for key in foreign:
            self.assertIn(key, self.stored_keys(key.rsplit("/", 1)[0] + "/"))
        self.assertIn("Deleted 4 old backups", run.retention_note)

    def test_age_limit_removes_old_backups(self):
        old = [self.old_set(days, f"1{days:07d}") for days in (10, 20)]
        profile = self.make_profile(include_filestore=False, keep_count=0, keep_days=5)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(self.backup_ids(), [run.backup_id])
        self.assertNotIn(old[0], self.backup_ids())

    def test_failed_run_deletes_nothing(self):
        old = [self.old_set(days, f"2{days:07d}") for days in (10, 20, 30)]
        profile = self.make_profile(include_filestore=False, keep_count=1, keep_days=1)
        with patch.dict(config.options, {"selfhost_backup_encryption_key": "too short"}):
            run = profile._run_backup()
        self.assertEqual(run.state, "failed")
        self.assertIn("32 random bytes", run.error)
        self.assertEqual(self.backup_ids(), sorted(old))

    def test_upload_that_fails_after_starting_deletes_nothing(self):
        """The dump fails once its upload has started (a "pg_dump" that exits 1):
        the upload is aborted and retention never runs."""
        old = [self.old_set(days, f"3{days:07d}") for days in (10, 20, 30)]
        profile = self.make_profile(include_filestore=False, keep_count=1, keep_days=1)
        with patch.dict(config.options, {"selfhost_backup_pg_dump": shutil.which("false")}):
            run = profile._run_backup()
        self.assertEqual(run.state, "failed")
        self.assertIn("pg_dump failed with exit code 1", run.error)
        self.assertFalse(self.uploads())
        self.assertEqual(self.backup_ids(), sorted(old))
        self.assertFalse(run.retention_note)

    def test_planted_manifests_delete_no_real_backup_and_are_alerted(self):
        """Someone who can put objects in the bucket but not delete them plants
        `keep_count` manifests for retention to count: unsigned ones dated up to
        an hour ahead, a real manifest copied under newer names, one with a
        made-up MAC, and garbage over a real backup's manifest. The next run
        deletes none of the real backups (nor the planted sets), and the Owner
        and Admins get one alert for the run."""
        keep = 3
        real = [self.old_set(days, f"4{days:07d}") for days in (3, 2, 1)]
        real_keys = self.stored_keys(self.base)
        now = datetime.now(timezone.utc)
        planted = []
        for i in range(keep):
            planted.append(self.put_backup_set(
                self.base, now + timedelta(minutes=10 * (i + 1)), f"a{i:07x}", signed=False))
        for i in range(keep):  # a real backup's objects and signed manifest, under newer ids
            bid = retention.backup_id_for(now - timedelta(minutes=i + 1), f"b{i:07x}")
            for key in [k for k in real_keys if real[2] in k]:
                self.client.copy_object(
                    Bucket=self.s3["BUCKET"], Key=key.replace(real[2], bid),
                    CopySource={"Bucket": self.s3["BUCKET"], "Key": key})
            planted.append(bid)
        bid = self.put_backup_set(self.base, now - timedelta(minutes=30), "c0000000")
        manifest_key = f"{self.base}{bid}/manifest.json"
        body = json.loads(self.client.get_object(Bucket=self.s3["BUCKET"],
                                                 Key=manifest_key)["Body"].read())
        self.put(manifest_key, json.dumps(dict(body, mac="f" * 64)).encode())
        planted.append(bid)
        self.put(f"{self.base}{real[0]}/manifest.json", b"garbage over a real manifest")

        profile = self.make_profile(include_filestore=False, keep_count=keep, keep_days=0)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        keys = self.stored_keys(self.base)
        self.assertFalse(set(real_keys) - set(keys), "every real backup is still there")
        self.assertEqual(set(self.backup_ids()), set(real + planted + [run.backup_id]),
                         "nor are the planted sets deleted")
        self.assertIn("Nothing to delete", run.retention_note)
        self.assertIn(f"{len(planted) + 1} backup sets neither counted nor deleted",
                      run.retention_note)
        alerts = self.env["audit.alert"].search([("code", "=", "backup_unauthenticated"),
                                                 ("key", "=", f"profile:{profile.id}")])
        self.assertEqual(len(alerts), 1, "one alert for the run")
        for bid in planted + [real[0]]:
            self.assertIn(bid, alerts.message)
        self.assertTrue(self.env["audit.event"].search([
            ("action", "=", "backup.unauthenticated"), ("res_id", "=", run.id)]))

        # the real backups still count: the next run deletes the oldest good one only
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        self.assertIn(f"Deleted 1 old backups: {real[1]}", run.retention_note)
        self.assertIn(real[0], self.backup_ids(), "its manifest does not authenticate: kept")
