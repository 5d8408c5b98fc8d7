"""Signed checkpoints published where the database cannot rewrite them: an S3
bucket with Object Lock on the SeaweedFS server `make test` starts, and an
HTTPS endpoint; the auditor's verifier reads them from there."""
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest.mock import patch

from odoo.tests import tagged

from .common import SIGNING_SEED, AuditCase, signing_key

S3_VARS = ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY")


def s3_client(s3):
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415
    return boto3.client("s3", endpoint_url=s3["ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id=s3["ACCESS_KEY"], aws_secret_access_key=s3["SECRET_KEY"],
                        config=Config(s3={"addressing_style": "path"}))


def create_bucket(client, name, object_lock):
    for attempt in range(40):  # the filer may need a moment after a restart
        try:
            client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
            return
        except Exception as exc:
            status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get(
                "HTTPStatusCode", 500)
            if attempt == 39 or status < 500:
                raise
            time.sleep(0.5)


class PublicationCase(AuditCase):
    SEED = SIGNING_SEED

    def setUp(self):
        super().setUp()
        from ..lib import chain, publish, verify
        self.chain, self.publish, self.verify = chain, publish, verify
        self.startPatcher(signing_key())
        self.Checkpoint = self.env["audit.checkpoint"]
        self.public_pem = chain.public_key_pem(chain.load_private_key(self.SEED))
        self.uuid = self.Checkpoint._database_uuid()
        # checkpoints signed before this test count as published (to no sink of this test)
        self.env.cr.execute("UPDATE audit_chain_state SET last_published = last_checkpoint"
                            " RETURNING coalesce(last_checkpoint, 0)")
        self.first_new = self.env.cr.fetchone()[0] + 1

    def param(self, key, value):
        self.env["ir.config_parameter"].sudo().set_param(key, value)

    def sign(self, n=1):
        for i in range(n):
            self.Event.log("security_event", f"publish.{secrets.token_hex(3)}", details={"i": i})
            self.Event._seal()
            self.assertTrue(self.Checkpoint._checkpoint_head())

    def last_published(self):
        self.env.cr.execute("SELECT coalesce(last_published, 0) FROM audit_chain_state")
        return self.env.cr.fetchone()[0]

    def unpublished_alerts(self):
        return self.env["audit.alert"].search([("code", "=", "checkpoint_unpublished")])


@tagged("post_install", "-at_install")
class TestPublicationToS3(PublicationCase):
    def setUp(self):
        super().setUp()
        self.s3 = {name: os.environ.get(f"SUITE_S3_{name}") for name in S3_VARS}
        if not all(self.s3.values()):
            self.fail("SUITE_S3_* not set: run the tests with `make test`, which starts the local "
                      "S3 server")
        if "selfhost.backup.profile" not in self.env:
            self.fail("publication to S3 goes through a selfhost_backup profile: install it")
        self.client = s3_client(self.s3)
        self.bucket = "audit-cp-" + secrets.token_hex(4)
        create_bucket(self.client, self.bucket, object_lock=True)
        self.profile = self.make_profile(self.bucket)
        self.prefix = self.publish.folder(self.profile.prefix, self.uuid)
        self.param("audit_trail.publish_profile_id", str(self.profile.id))
        self.param("audit_trail.publish_lock_days", "2")

    def make_profile(self, bucket):
        profile = self.env["selfhost.backup.profile"].create({
            "name": "checkpoints " + secrets.token_hex(3), "endpoint_url": self.s3["ENDPOINT"],
            "bucket": bucket, "prefix": "odoo-" + secrets.token_hex(3),
            "addressing_style": "path", "credentials_source": "stored", "daily": False})
        profile.write({"new_access_key_id": self.s3["ACCESS_KEY"],
                       "new_secret_access_key": self.s3["SECRET_KEY"]})
        return profile

    def read_back(self):
        return self.verify.published_from_s3(self.s3["ENDPOINT"], self.bucket, self.prefix,
                                             access_key=self.s3["ACCESS_KEY"],
                                             secret_key=self.s3["SECRET_KEY"])

    def test_checkpoints_are_published_locked_and_the_verifier_reads_them(self):
        self.sign(3)
        self.assertEqual(self.Checkpoint._publish_pending(), 3)
        self.assertEqual(self.last_published(), self.first_new + 2)
        newest = self.Checkpoint.search([("number", "=", self.first_new + 2)])
        self.assertTrue(newest.published)
        keys = [item["Key"] for item in self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=self.prefix)["Contents"]]
        self.assertEqual(keys, [f"{self.prefix}{n:012d}.json"
                                for n in range(self.first_new, self.first_new + 3)])
        head = self.client.head_object(Bucket=self.bucket, Key=keys[-1])
        self.assertEqual(head["ObjectLockMode"], "COMPLIANCE")
        # nobody deletes or unlocks a published version, the bucket's owner included
        version = head["VersionId"]
        for attempt in (
                lambda: self.client.delete_object(Bucket=self.bucket, Key=keys[-1],
                                                  VersionId=version),
                lambda: self.client.delete_object(Bucket=self.bucket, Key=keys[-1],
                                                  VersionId=version,
                                                  BypassGovernanceRetention=True),
                lambda: self.client.put_object_retention(
                    Bucket=self.bucket, Key=keys[-1], VersionId=version,
                    Retention={"Mode": "GOVERNANCE", "RetainUntilDate": head[
                        "ObjectLockRetainUntilDate"]})):
            with self.assertRaises(Exception) as refused:
                attempt()
            self.assertIn(refused.exception.response["Error"]["Code"], ("AccessDenied", "403"))
        # nothing new: nothing published twice; the verifier finds everything in order
        self.assertEqual(self.Checkpoint._publish_pending(), 0)
        published, problems = self.read_back()
        self.assertEqual(problems, [])
        self.assertEqual([r["number"] for r in published][-3:], list(range(
            self.first_new, self.first_new + 3)))
        self.env.flush_all()
        self.assertEqual(self.verify.verify_database(self.env.cr, published, self.public_pem), [])

    def test_the_verifier_finds_database_tampering_against_the_s3_checkpoints(self):
        self.sign(3)
        self.Checkpoint._publish_pending()
        published, _problems = self.read_back()
        target = self.Event.search([("action", "like", "publish.")], order="sequence",
                                   limit=1).sequence
        # the database rewrites its own checkpoints to match a rewritten tail
        self.env.cr.execute("UPDATE audit_event SET details = '{\"i\": 9}' WHERE sequence = %s",
                            [target])
        self.env.cr.execute("DELETE FROM audit_checkpoint WHERE number >= %s", [self.first_new])
        self.Event.invalidate_model()
        problems = self.verify.verify_database(self.env.cr, published, self.public_pem)
        self.assertIn(f"event {target}: its content does not match its digest", problems)
        self.env.cr.execute("DELETE FROM audit_event WHERE sequence >= %s", [target])
        problems = self.verify.verify_database(self.env.cr, published, self.public_pem)
        self.assertTrue([p for p in problems if "no longer holds" in p or "missing" in p],
                        problems)

    def test_tampering_at_the_sink_is_reported_and_the_first_version_counts(self):
        self.sign(2)
        self.Checkpoint._publish_pending()
        first_key = f"{self.prefix}{self.first_new:012d}.json"
        second_key = f"{self.prefix}{self.first_new + 1:012d}.json"
        original = json.loads(self.client.get_object(Bucket=self.bucket, Key=first_key)[
            "Body"].read())
        forged = dict(original, hash="0" * 64)
        # someone with the bucket's keys: a new version, a delete marker, a stray key
        self.client.put_object(Bucket=self.bucket, Key=first_key, Body=json.dumps(forged))
        self.client.delete_object(Bucket=self.bucket, Key=second_key)
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}{99:012d}.json",
                               Body=json.dumps(dict(original, number=99)))
        published, problems = self.read_back()
        text = "\n".join(problems)
        self.assertIn(f"{self.first_new:012d}.json: rewritten after publication", text)
        self.assertIn(f"{self.first_new + 1:012d}.json: someone tried to delete it", text)
        self.assertIn(f"{99:012d}.json: not locked in COMPLIANCE mode", text)
        first = [r for r in published if r["number"] == self.first_new]
        self.assertEqual(first[0]["hash"], original["hash"], "the first version counts")
        self.env.flush_all()
        self.assertTrue(self.verify.verify_database(self.env.cr, published, self.public_pem),
                        "the stray checkpoint 99 does not verify")

    def test_a_bucket_without_object_lock_is_refused_and_alerted(self):
        bucket = "audit-nolock-" + secrets.token_hex(4)
        create_bucket(self.client, bucket, object_lock=False)
        self.profile.sudo().write({"bucket": bucket})
        self.sign(1)
        self.assertEqual(self.Checkpoint._publish_pending(), 0)
        self.assertEqual(self.last_published(), 0)
        alert = self.unpublished_alerts()
        self.assertTrue(alert, "the Owner and Admins are told")
        self.assertIn(str(self.first_new), alert[0].message)
        self.assertFalse(self.client.list_objects_v2(Bucket=bucket).get("Contents"))

    def test_republishing_is_idempotent_and_a_rewritten_checkpoint_cannot_replace_one(self):
        self.sign(2)
        self.assertEqual(self.Checkpoint._publish_pending(), 2)
        # the counter reset (a retry after a crash, or SQL): the same bytes, nothing new
        self.env.cr.execute("UPDATE audit_chain_state SET last_published = 0")
        self.assertEqual(self.Checkpoint._publish_pending(), self.first_new + 1)
        self.assertFalse(self.unpublished_alerts())
        # the database's checkpoint rewritten after publication: refused, alerted
        self.env.cr.execute("UPDATE audit_checkpoint SET hash = repeat('0', 64) WHERE number = %s",
                            [self.first_new + 1])
        self.env.cr.execute("UPDATE audit_chain_state SET last_published = %s",
                            [self.first_new])
        self.Checkpoint.invalidate_model()
        self.assertEqual(self.Checkpoint._publish_pending(), 0)
        self.assertIn("a different checkpoint is already published",
                      self.unpublished_alerts()[0].message)
        published, _problems = self.read_back()
        self.assertNotIn("0" * 64, [r["hash"] for r in published])

    def test_the_command_checks_an_export_against_the_bucket(self):
        """The auditor's command, as a separate process: an export of the
        chain against the checkpoints in the bucket, the key given apart."""
        self.sign(2)
        self.Checkpoint._publish_pending()
        lines = self.Checkpoint._export_lines_all()
        folder = tempfile.mkdtemp()
        export, key = os.path.join(folder, "export.jsonl"), os.path.join(folder, "public.pem")
        with open(key, "w", encoding="utf-8") as fh:
            fh.write(self.public_pem)

        def run(export_lines):
            with open(export, "w", encoding="utf-8") as fh:
                fh.write("\n".join(export_lines) + "\n")
            return subprocess.run(
                [sys.executable, self.verify.__file__, "--export", export, "--s3-bucket",
                 self.bucket, "--s3-prefix", self.prefix, "--s3-endpoint", self.s3["ENDPOINT"],
                 "--public-key", key], capture_output=True, text=True, timeout=120,
                env=dict(os.environ, AWS_ACCESS_KEY_ID=self.s3["ACCESS_KEY"],
                         AWS_SECRET_ACCESS_KEY=self.s3["SECRET_KEY"]))

        result = run(lines)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("the audit chain holds", result.stdout)
        # the export's last event dropped: the published checkpoint no longer holds
        events = [n for n, line in enumerate(lines) if '"type": "event"' in line]
        result = run(lines[:events[-1]])
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("does not hold its hash", result.stdout)


class _Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers.get("Authorization"), json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestPublicationToHttps(PublicationCase):
    def test_checkpoints_are_posted_with_the_token_from_the_configuration(self):
        server = HTTPServer(("127.0.0.1", 0), _Receiver)
        self.addCleanup(server.server_close)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.shutdown)
        _Receiver.received = []
        self.param("audit_trail.publish_url", f"http://127.0.0.1:{server.server_port}/cp")
        self.sign(2)
        with patch.dict("os.environ", {"AUDIT_PUBLISH_TOKEN": "tok-" + self.SEED[:6]}):
            self.assertEqual(self.Checkpoint._publish_pending(), 2)
        self.assertEqual([(auth, body["number"]) for auth, body in _Receiver.received],
                         [(f"Bearer tok-{self.SEED[:6]}", self.first_new),
                          (f"Bearer tok-{self.SEED[:6]}", self.first_new + 1)])
        self.assertEqual(self.chain.checkpoint_problems(
            [body for _auth, body in _Receiver.received], self.public_pem), [])

    def test_only_https_leaves_the_machine(self):
        for url in ("http://audit.example.com/cp", "ftp://127.0.0.1/cp", "file:///etc/passwd",
                    "http://10.0.0.1/cp"):
            with self.subTest(url=url):
                with self.assertRaises(self.publish.PublishError):
                    self.publish.check_url(url)
        self.assertTrue(self.publish.check_url("https://audit.example.com/cp"))
        self.param("audit_trail.publish_url", "http://audit.example.com/cp")
        self.sign(1)
        self.assertEqual(self.Checkpoint._publish_pending(), 0)
        self.assertIn("https", self.unpublished_alerts()[0].message)

    def test_publication_settings_are_the_owners(self):
        from odoo.exceptions import AccessError
        settings = self.env["res.config.settings"].with_user(self.admin).create({
            "audit_publish_url": "https://attacker.example.com/cp"})
        with self.assertRaises(AccessError):
            settings.execute()
        self.assertFalse(self.env["ir.config_parameter"].sudo().get_param(
            "audit_trail.publish_url"))
        settings = self.env["res.config.settings"].with_user(self.owner).create({
            "audit_publish_url": "https://audit.example.com/cp"})
        settings.execute()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param(
            "audit_trail.publish_url"), "https://audit.example.com/cp")
