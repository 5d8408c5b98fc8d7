import base64
import hashlib
import json
import os
import secrets
import shutil
from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests.common import TransactionCase
from odoo.tools import config
from odoo.tools.misc import exec_pg_environ

from odoo.addons.security_roles.tests.common import role_users

from ..lib import crypto, pipeline, retention
from ..lib import s3 as s3lib

S3_VARS = ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "BUCKET")


def s3_settings(case):
    """The SeaweedFS server `make test` starts; a test that needs it fails without it."""
    values = {name: os.environ.get(f"SUITE_S3_{name}") for name in S3_VARS}
    missing = [f"SUITE_S3_{n}" for n, v in values.items() if not v]
    if missing:
        case.fail(f"{', '.join(missing)} not set: run the tests with `make test`, which starts "
                  "the local S3 server")
    return values


def pg_connect(dbname):
    env = exec_pg_environ()
    conn = psycopg2.connect(dbname=dbname, host=env.get("PGHOST"), port=env.get("PGPORT"),
                            user=env.get("PGUSER"), password=env.get("PGPASSWORD"))
    conn.autocommit = True
    return conn


def drop_database(name):
    # the module's own drop: it waits out an autovacuum worker that has just
    # started on the new database (FORCE cannot end a superuser's backend)
    pipeline._drop_database(exec_pg_environ(), name)
    shutil.rmtree(config.filestore(name), ignore_errors=True)


def row_counts(dbname):
    conn = pg_connect(dbname)
    with conn.cursor() as cr:
        cr.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        tables = [t for (t,) in cr.fetchall()]
        counts = {}
        for table in tables:
            cr.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cr.fetchone()[0]
    conn.close()
    return counts


def filestore_digests(dbname):
    root = config.filestore(dbname)
    digests = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as fh:
                digests[os.path.relpath(path, root)] = hashlib.sha256(fh.read()).hexdigest()
    return digests


class committed_env:
    """An environment on a cursor of its own, committed at the end of the
    block: pg_dump and the sub-command see only committed data."""

    def __init__(self, dbname):
        self.dbname = dbname

    def __enter__(self):
        self.cr = sql_db.db_connect(self.dbname).cursor()
        return api.Environment(self.cr, SUPERUSER_ID, {})

    def __exit__(self, exc_type, *exc):
        if exc_type:
            self.cr.rollback()
        else:
            self.cr.commit()
        self.cr.close()


class BackupCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # own-cursor audit events (failures) share the test transaction
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        role_users(cls)
        cls.key = secrets.token_bytes(32)
        cls.key_patch = patch.dict(config.options, {
            "selfhost_backup_encryption_key": base64.b64encode(cls.key).decode()})
        cls.key_patch.start()
        cls.addClassCleanup(cls.key_patch.stop)

    def setUp(self):
        super().setUp()
        self.s3 = s3_settings(self)
        self.prefix = "test-" + secrets.token_hex(4)
        self.client = s3lib.make_client(self.s3["ENDPOINT"], None, self.s3["ACCESS_KEY"],
                                        self.s3["SECRET_KEY"], "path")

    def make_profile(self, store_credentials=True, **values):
        vals = {"name": "profile " + secrets.token_hex(3), "endpoint_url": self.s3["ENDPOINT"],
                "bucket": self.s3["BUCKET"], "prefix": self.prefix, "addressing_style": "path",
                "credentials_source": "stored", "keep_count": 0, "keep_days": 0,
                **values}
        profile = self.env["selfhost.backup.profile"].create(vals)
        if vals["credentials_source"] == "stored" and store_credentials:
            profile.write({"new_access_key_id": self.s3["ACCESS_KEY"],
                           "new_secret_access_key": self.s3["SECRET_KEY"]})
        return profile

    def put_backup_set(self, base, when, token, signed=True, encrypt=True):
        """A small backup set as a holder of the key writes it (a manifest signed
        with the test's key, listing a one-byte database object); `signed=False`:
        as anyone else with write access to the bucket could. Returns its id."""
        backup_id = retention.backup_id_for(when, token)
        folder = f"{base}{backup_id}/"
        obj_key = folder + pipeline.object_name("database", "zstd", encrypt)
        self.client.put_object(Bucket=self.s3["BUCKET"], Key=obj_key, Body=b"x")
        dbname = base.rstrip("/").rsplit("/", 1)[-1]
        manifest = {
            "format": pipeline.FORMAT, "version": pipeline.FORMAT_VERSION,
            "backup_id": backup_id, "database": dbname,
            "prefix": base[:-len(dbname) - 1].strip("/"),
            "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "pg_dump": "test",
            "compression": "zstd", "filestore_files": 0,
            "key_fingerprint": crypto.key_fingerprint(self.key),
            "encryption": ({"algorithm": "AES-256-GCM", "chunk_size": crypto.DEFAULT_CHUNK,
                            "key_fingerprint": crypto.key_fingerprint(self.key)}
                           if encrypt else None),
            "objects": [{"key": obj_key, "role": "database", "size": 1, "sha256": "0" * 64,
                         "plain_size": 1, "plain_sha256": "0" * 64, "parts": 1}],
            "info": {},
        }
        canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        manifest["mac"] = crypto.manifest_mac(self.key, canonical) if signed else None
        self.client.put_object(Bucket=self.s3["BUCKET"], Key=folder + pipeline.MANIFEST,
                               Body=json.dumps(manifest).encode())
        return backup_id

    def stored_credentials(self, profile):
        """What the server reads to connect (never readable over RPC)."""
        return profile._stored_credentials().get(profile.id, (None, None))

    def stored_keys(self, prefix=None):
        return sorted(k for k, _s, _m in s3lib.list_keys(self.client, self.s3["BUCKET"],
                                                          prefix or self.prefix + "/"))

    def uploads(self):
        return s3lib.list_uploads(self.client, self.s3["BUCKET"], self.prefix + "/")

    def new_db_name(self):
        name = f"{self.env.cr.dbname}_restore_{secrets.token_hex(3)}"
        self.addCleanup(drop_database, name)
        return name

    def database_exists(self, name):
        conn = pg_connect("postgres")
        with conn.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            found = bool(cr.fetchone())
        conn.close()
        return found
