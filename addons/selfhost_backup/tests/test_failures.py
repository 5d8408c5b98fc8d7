import importlib.util
import os
import secrets
import shutil
import sys
import tempfile
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import config

from ..lib import s3 as s3lib
from .common import BackupCase, pg_connect


def load_seaweed(case):
    """The project's SeaweedFS launcher (scripts/seaweed.py), for a server of the test's own."""
    root = os.environ.get("SUITE_ROOT")
    if not root or not os.environ.get("SUITE_S3_WEED"):
        case.fail("SUITE_ROOT / SUITE_S3_WEED not set: run the tests with `make test`")
    spec = importlib.util.spec_from_file_location("suite_seaweed",
                                                  os.path.join(root, "scripts", "seaweed.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestBackupFailures(BackupCase):
    def assertFailedRun(self, run, pattern):
        self.assertEqual(run.state, "failed")
        self.assertRegex(run.error, pattern)
        self.assertFalse(run.manifest_key)
        self.assertFalse(run.backup_id)
        self.assertFalse(self.stored_keys(), "a failed run leaves no object behind")
        self.assertFalse(self.uploads(), "a failed run leaves no upload open")
        alerts = self.env["audit.alert"].search([("code", "=", "backup_failed"),
                                                 ("key", "=", f"profile:{run.profile_id.id}")])
        self.assertEqual(len(alerts), 1, "the Owner and Admins are alerted")
        self.assertIn(run.profile_id.name, alerts.name)

    def test_pg_dump_failure_gives_failed_run(self):
        # a table another session holds in ACCESS EXCLUSIVE mode: pg_dump gives up on its lock
        dbname = self.env.cr.dbname
        table = "selfhost_backup_lock_probe_" + secrets.token_hex(3)
        ddl = pg_connect(dbname)
        with ddl.cursor() as cr:
            cr.execute(f"CREATE TABLE {table} (id int)")

        def drop():
            with ddl.cursor() as cr:
                cr.execute(f"DROP TABLE IF EXISTS {table}")
            ddl.close()
        self.addCleanup(drop)
        locker = pg_connect(dbname)
        locker.autocommit = False
        self.addCleanup(locker.close)
        self.addCleanup(locker.rollback)
        with locker.cursor() as cr:
            cr.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        self.env["ir.config_parameter"].set_param("selfhost_backup.lock_wait_timeout", "1s")
        profile = self.make_profile()
        run = profile._run_backup()
        self.assertFailedRun(run, r"(?s)pg_dump failed with exit code 1: .*LOCK TABLE")
        event = self.env["audit.event"].search([("action", "=", "backup.failed"),
                                                ("res_id", "=", run.id)])
        self.assertEqual(event.outcome, "failure")

    def test_wrong_credentials_give_failed_run(self):
        profile = self.make_profile()
        profile.new_secret_access_key = "not-the-secret"
        run = profile._run_backup()
        self.assertFailedRun(run, r"access denied by the S3 server")

    def test_missing_bucket_gives_failed_run(self):
        profile = self.make_profile(bucket="no-such-bucket-" + secrets.token_hex(3))
        run = profile._run_backup()
        self.assertFailedRun(run, r"the bucket 'no-such-bucket-\w+' does not exist")

    def test_unreachable_server_gives_failed_run(self):
        profile = self.make_profile(endpoint_url="http://127.0.0.1:9")
        run = profile._run_backup()
        self.assertFailedRun(run, r"cannot be reached")

    def test_missing_key_gives_failed_run_encrypted_or_not(self):
        for encrypt in (True, False):
            profile = self.make_profile(encrypt=encrypt, prefix=f"{self.prefix}-{encrypt}")
            with patch.dict(config.options, {"selfhost_backup_encryption_key": ""}), \
                    patch.dict(os.environ, {"SELFHOST_BACKUP_ENCRYPTION_KEY": ""}):
                run = profile._run_backup()
            self.assertFailedRun(run, r"No backup key is configured for profile .*: set "
                                 r"selfhost_backup_encryption_key in odoo.conf")

    def test_verify_restore_and_listing_refuse_without_a_key(self):
        profile = self.make_profile(encrypt=False, include_filestore=False, config_name="plain")
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        target = self.new_db_name()
        option = r"set selfhost_backup_plain_encryption_key or selfhost_backup_encryption_key"
        with patch.dict(config.options, {"selfhost_backup_encryption_key": ""}), \
                patch.dict(os.environ, {"SELFHOST_BACKUP_ENCRYPTION_KEY": ""}):
            run.action_verify()
            self.assertEqual(run.verify_state, "failed")
            self.assertRegex(run.verify_message, option)
            with self.assertRaisesRegex(UserError, option):
                run._restore(target)
            with self.assertRaisesRegex(UserError, option):
                profile._list_backups()
        self.assertFalse(self.database_exists(target))

    def test_stored_credentials_not_entered(self):
        profile = self.make_profile(store_credentials=False)
        run = profile._run_backup()
        self.assertFailedRun(run, r"the Owner has not entered them yet")

    def test_server_killed_mid_upload(self):
        seaweed = load_seaweed(self)
        data_dir = tempfile.mkdtemp(prefix="selfhost_backup_kill_")
        self.addCleanup(shutil.rmtree, data_dir, ignore_errors=True)
        server = seaweed.SeaweedS3(data_dir, weed=os.environ["SUITE_S3_WEED"],
                                   buckets=["kill-test"], python=sys.executable)
        server.start()
        self.addCleanup(server.stop)
        # uncompressed, so that the dump spans several 8 MiB parts
        profile = self.make_profile(endpoint_url=server.endpoint, bucket="kill-test",
                                    compression="none", include_filestore=False,
                                    store_credentials=False)
        profile.write({"new_access_key_id": server.access_key,
                       "new_secret_access_key": server.secret_key})
        killed = []

        def kill_after_first_part(key, number):
            if not killed:
                server.kill()
                killed.append((key, number))

        run = profile._run_backup(on_part=kill_after_first_part)
        self.assertTrue(killed, "the dump must span more than one part")
        self.assertEqual(run.state, "failed")
        self.assertRegex(run.error, r"upload part \d+ of .*db\.dump\.aes: the S3 server cannot be "
                         r"reached")
        self.assertFalse(run.manifest_key)
        leftovers = run._load_leftovers()
        self.assertEqual([item["key"] for item in leftovers], [killed[0][0]])
        self.assertTrue(leftovers[0]["upload_id"])

        # the server comes back: the upload is still open until the profile's next
        # run aborts it; no backup of the failed run is ever listed as complete
        server.restart()
        client = profile._client()
        self.assertEqual(s3lib.list_uploads(client, "kill-test", self.prefix + "/"),
                         [(leftovers[0]["key"], leftovers[0]["upload_id"])])
        self.assertFalse([b for b in profile._list_backups() if b["complete"]])
        profile._retry_cleanup(client)
        self.assertFalse(run.leftovers)
        self.assertFalse(s3lib.list_uploads(client, "kill-test", self.prefix + "/"))
        self.assertFalse(profile._list_backups())
