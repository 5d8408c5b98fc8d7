import base64
import hashlib
import json
import os
import secrets

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..lib import pipeline
from .common import (
    BackupCase,
    committed_env,
    drop_database,
    filestore_digests,
    pg_connect,
    row_counts,
)


@tagged("post_install", "-at_install")
class TestBackupRestore(BackupCase):
    def _committed_attachments(self, count=3):
        """Attachments with random content, committed so that pg_dump sees them;
        removed again after the test."""
        dbname = self.env.cr.dbname
        with committed_env(dbname) as env:
            attachments = env["ir.attachment"].create([{
                "name": f"backup-test-{i}.bin", "raw": secrets.token_bytes(50_000 + i)}
                for i in range(count)])
            ids, fnames = attachments.ids, attachments.mapped("store_fname")

        def remove():
            with committed_env(dbname) as env:
                env["ir.attachment"].browse(ids).unlink()
        self.addCleanup(remove)
        return fnames

    def test_backup_restores_into_new_database_with_same_rows_and_files(self):
        fnames = self._committed_attachments()
        profile = self.make_profile()
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        self.assertGreater(run.size, 0)
        self.assertEqual(len(run.sha256), 64)
        self.assertGreater(run.throughput, 0)
        keys = self.stored_keys()
        self.assertEqual(keys, sorted(run.keys.split("\n")))
        self.assertTrue(any(k.endswith("/db.dump.zst.aes") for k in keys), keys)
        self.assertTrue(any(k.endswith("/filestore.tar.zst.aes") for k in keys), keys)
        self.assertFalse(self.uploads())
        # the manifest records both objects and their hashes, authenticated
        body = self.client.get_object(Bucket=self.s3["BUCKET"], Key=run.manifest_key)["Body"]
        manifest = json.loads(body.read())
        self.assertEqual([o["role"] for o in manifest["objects"]], ["database", "filestore"])
        self.assertEqual(manifest["objects"][0]["sha256"], run.sha256)
        self.assertTrue(manifest["mac"])
        self.assertGreaterEqual(manifest["filestore_files"], len(fnames))

        verify = run.action_verify()
        self.assertEqual(run.verify_state, "ok", run.verify_message)
        self.assertEqual(verify["params"]["type"], "success")

        source_counts = row_counts(self.env.cr.dbname)
        source_files = filestore_digests(self.env.cr.dbname)
        target = self.new_db_name()
        run._restore(target)
        # the same rows, but for the neutralization (a dummy mail server, its flag)
        restored_counts = row_counts(target)
        self.assertEqual(restored_counts.pop("ir_mail_server"),
                         source_counts.pop("ir_mail_server") + 1)
        restored_counts.pop("ir_config_parameter")
        source_counts.pop("ir_config_parameter")
        self.assertEqual(restored_counts, source_counts)
        self.assertNeutralized(target)
        restored_files = filestore_digests(target)
        self.assertEqual(restored_files, source_files)
        for fname in fnames:
            self.assertIn(fname, restored_files)

        # never over an existing database
        with self.assertRaisesRegex(UserError, "already exists"):
            run._restore(target)
        with self.assertRaisesRegex(UserError, "already exists"):
            run._restore(self.env.cr.dbname)

    def assertNeutralized(self, target):
        """The copy cannot act as this database: no scheduled action but the
        autovacuum, a new identity, no stored backup credentials."""
        conn = pg_connect(target)
        self.addCleanup(conn.close)
        with conn.cursor() as cr:
            cr.execute("SELECT count(*) FROM ir_cron WHERE active")
            self.assertLessEqual(cr.fetchone()[0], 1)
            cr.execute("SELECT key, value FROM ir_config_parameter WHERE key IN "
                       "('database.uuid', 'database.secret', 'database.is_neutralized')")
            params = dict(cr.fetchall())
            cr.execute("SELECT count(*) FROM selfhost_backup_profile WHERE daily "
                       "OR secret_access_key IS NOT NULL")
            self.assertEqual(cr.fetchone()[0], 0)
        icp = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params["database.is_neutralized"], "true")
        self.assertNotEqual(params["database.uuid"], icp.get_param("database.uuid"))
        self.assertNotEqual(params["database.secret"], icp.get_param("database.secret"))

    def test_flipped_byte_fails_verify_and_restore(self):
        profile = self.make_profile(include_filestore=False)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        key = next(k for k in run.keys.split("\n") if "/db.dump" in k)
        data = bytearray(self.client.get_object(Bucket=self.s3["BUCKET"], Key=key)["Body"].read())
        data[len(data) // 2] ^= 0x01
        self.client.put_object(Bucket=self.s3["BUCKET"], Key=key, Body=bytes(data))

        result = run.action_verify()
        self.assertEqual(run.verify_state, "failed")
        self.assertEqual(result["params"]["type"], "danger")
        self.assertRegex(run.verify_message, r"db\.dump\.zst\.aes: chunk \d+ failed authentication")

        target = self.new_db_name()
        with self.assertRaisesRegex(
                UserError, r"removed: db\.dump\.zst\.aes: chunk \d+ failed authentication"):
            run._restore(target)
        self.assertFalse(self.database_exists(target), "a failed restore leaves no database")
        self.assertFalse(os.path.exists(os.path.join(
            os.path.dirname(self.env["ir.attachment"]._filestore()), target)))

    def test_wrong_key_is_refused_clearly(self):
        profile = self.make_profile(include_filestore=False)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        from unittest.mock import patch  # noqa: PLC0415
        from odoo.tools import config  # noqa: PLC0415
        other = base64.b64encode(secrets.token_bytes(32)).decode()
        with patch.dict(config.options, {"selfhost_backup_encryption_key": other}):
            run.action_verify()
        self.assertEqual(run.verify_state, "failed")
        self.assertIn("encrypted with another key", run.verify_message)

    def test_gzip_unencrypted_checksum_compat_round_trip(self):
        profile = self.make_profile(include_filestore=False, compression="gzip", encrypt=False,
                                    checksum_compat=True)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        self.assertTrue(any(k.endswith("/db.dump.gz") for k in run.keys.split("\n")), run.keys)
        run.action_verify()
        self.assertEqual(run.verify_state, "ok", run.verify_message)

    def test_daily_cron_backs_up_daily_profiles_only(self):
        daily = self.make_profile(include_filestore=False, daily=True)
        manual = self.make_profile(include_filestore=False, daily=False,
                                   prefix=self.prefix + "-manual")
        self.env.ref("selfhost_backup.ir_cron_selfhost_backup").method_direct_trigger()
        self.assertEqual(daily.run_ids.mapped("state"), ["done"])
        self.assertEqual(daily.run_ids.trigger, "cron")
        self.assertFalse(manual.run_ids)
        self.assertEqual(daily.last_state, "done")

    def test_endpoint_must_be_a_url(self):
        with self.assertRaisesRegex(ValidationError, "must be a URL"):
            self.make_profile(endpoint_url="s3.example.com")

    def test_swapped_dump_in_an_unencrypted_backup_is_refused(self):
        """An unencrypted profile (the Owner's choice) is still authenticated: a
        dump replaced by another one (whose SQL would run as the database role)
        is refused at verify and at restore, whether the manifest was rewritten
        to match it (without the key) or left as it was."""
        profile = self.make_profile(include_filestore=False, encrypt=False)
        run = profile._run_backup()
        self.assertEqual(run.state, "done", run.error)
        bucket = self.s3["BUCKET"]
        dump_key = next(k for k in run.keys.split("\n") if k.endswith("/db.dump.zst"))
        genuine = self.client.get_object(Bucket=bucket, Key=run.manifest_key)["Body"].read()
        # the attacker's dump: a database of theirs, backed up with a key of theirs
        evil = f"{self.env.cr.dbname}_evil_{secrets.token_hex(3)}"
        conn = pg_connect("postgres")
        with conn.cursor() as cr:
            cr.execute(f'CREATE DATABASE "{evil}"')
        conn.close()
        self.addCleanup(drop_database, evil)
        conn = pg_connect(evil)
        with conn.cursor() as cr:
            cr.execute("CREATE TABLE backdoor (v text)")
        conn.close()
        theirs = pipeline.backup(self.client, bucket, self.prefix + "-evil", evil,
                                 profile._pg_env(), key=secrets.token_bytes(32), encrypt=False,
                                 pg_dump=profile._pg_tool("pg_dump"), include_filestore=False)
        data = self.client.get_object(Bucket=bucket, Key=theirs["objects"][0]["key"])["Body"].read()
        self.client.put_object(Bucket=bucket, Key=dump_key, Body=data)
        body = json.loads(genuine)
        body["objects"][0].update(size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                  plain_size=theirs["objects"][0]["plain_size"],
                                  plain_sha256=theirs["objects"][0]["plain_sha256"])
        for manifest, refusal in ((json.dumps(body).encode(), "failed authentication"),
                                  (genuine, r"db\.dump\.zst: SHA-256 of the stored object does "
                                            "not match")):
            self.client.put_object(Bucket=bucket, Key=run.manifest_key, Body=manifest)
            run.action_verify()
            self.assertEqual(run.verify_state, "failed")
            self.assertRegex(run.verify_message, refusal)
            target = self.new_db_name()
            with self.assertRaisesRegex(UserError, refusal):
                run._restore(target)
            self.assertFalse(self.database_exists(target))
