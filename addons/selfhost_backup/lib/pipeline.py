"""Backup, verify and restore, streaming end to end:

    pg_dump -Fc -Z0 | compress | AES-256-GCM chunks | S3 multipart upload
    tar of the filestore | compress | AES-256-GCM chunks | S3 multipart upload
    manifest.json (SHA-256 of every stored object and of its plaintext, HMAC)

Every profile has a key. Encryption is the Owner's choice; the manifest's HMAC
is not: it is what tells a backup this server wrote from objects that anyone
with write access to the bucket put there, and the manifest's SHA-256 of each
stored object then covers the objects, encrypted or not.

The database is dumped before the filestore (an attachment row never lacks
its file in the restored copy, only the reverse, which Odoo's garbage
collector cleans). Memory stays bounded: at most two upload parts and one
encryption chunk per object are in memory, whatever the database size.
"""
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time
from datetime import datetime, timezone

from . import compression as comp
from . import crypto, retention
from . import s3 as s3lib

_logger = logging.getLogger(__name__)
READ_SIZE = 1024 * 1024
FORMAT = "selfhost_backup"
FORMAT_VERSION = 1
DB_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
MANIFEST = "manifest.json"
MAX_MANIFEST = 1024 * 1024


class BackupError(RuntimeError):
    """A backup, verify or restore failed; the message says what to do next.
    `leftovers` lists what a failed backup could not clean up (S3 gone):
    [{"key": ..., "upload_id": ...} or {"key": ...}], to retry later."""

    def __init__(self, message, leftovers=()):
        super().__init__(message)
        self.leftovers = list(leftovers)


def normal_prefix(prefix):
    return (prefix or "").strip().strip("/")


def base_prefix(prefix, dbname):
    """`<prefix>/<database>/`: each profile's keys, per database."""
    prefix = normal_prefix(prefix)
    return f"{prefix}/{dbname}/" if prefix else f"{dbname}/"


def _require_key(key):
    if not isinstance(key, bytes) or len(key) != 32:
        raise BackupError("no backup key: every backup is authenticated with the profile's key, "
                          "encrypted or not (odoo.conf option selfhost_backup_encryption_key)")


def object_name(kind, compression, encrypted):
    base = {"database": "db.dump", "filestore": "filestore.tar"}[kind]
    return base + comp.SUFFIX[compression] + (".aes" if encrypted else "")


def _canonical(manifest):
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


class _ObjectWriter:
    """plaintext -> compression -> encryption -> SHA-256 -> multipart upload."""

    def __init__(self, upload, compression, key, chunk_size):
        self.upload = upload
        self.compression = compression
        self._comp = comp.compressor(compression)
        self._enc = crypto.Encryptor(key, chunk_size) if key else None
        self.plain_sha = hashlib.sha256()
        self.stored_sha = hashlib.sha256()
        self.plain_size = 0

    def _emit(self, data):
        if self._enc:
            data = self._enc.update(data)
        if data:
            self.stored_sha.update(data)
            self.upload.write(data)

    def write(self, data):
        self.plain_sha.update(data)
        self.plain_size += len(data)
        out = self._comp.compress(data)
        if out:
            self._emit(out)
        return len(data)

    def close(self):
        self._emit(self._comp.flush())
        if self._enc:
            tail = self._enc.finalize()
            self.stored_sha.update(tail)
            self.upload.write(tail)
        self.upload.complete()
        return {"key": self.upload.key, "size": self.upload.size,
                "sha256": self.stored_sha.hexdigest(), "plain_size": self.plain_size,
                "plain_sha256": self.plain_sha.hexdigest(), "parts": len(self.upload.parts)}


def _stream_object(ctx, key, part_size, producer):
    """Upload what `producer(writer)` writes under `key`; abort on any failure."""
    upload = s3lib.MultipartUpload(ctx["client"], ctx["bucket"], key, part_size,
                                   ctx["extra_args"], ctx["on_part"],
                                   spool_dir=ctx["spool_dir"]).start()
    ctx["uploads"].append(upload)
    writer = _ObjectWriter(upload, ctx["compression"], ctx["key"], ctx["chunk_size"])
    producer(writer)
    info = writer.close()
    ctx["uploads"].remove(upload)
    ctx["done"].append(key)
    return info


def _pg_dump_version(pg_dump):
    try:
        return subprocess.run([pg_dump, "--version"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except OSError as exc:
        raise BackupError(f"pg_dump cannot be run ({pg_dump}): {exc.strerror}") from exc


def _dump_database(pg_dump, dbname, pg_env, lock_wait_timeout=None):
    """A producer feeding `pg_dump --format=custom` (uncompressed: compression
    is ours) to the writer, and failing when pg_dump's exit code is not 0."""
    def produce(writer):
        with tempfile.TemporaryFile() as errors:
            try:
                cmd = [pg_dump, "--format=custom", "--compress=0", "--no-owner"]
                if lock_wait_timeout:
                    cmd.append(f"--lock-wait-timeout={lock_wait_timeout}")
                proc = subprocess.Popen(
                    [*cmd, "--dbname", dbname], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
                    env=pg_env)
            except OSError as exc:
                raise BackupError(f"pg_dump cannot be run ({pg_dump}): {exc.strerror}") from exc
            try:
                _grow_pipe(proc.stdout)
                read = proc.stdout.read
                while True:
                    data = read(READ_SIZE)
                    if not data:
                        break
                    writer.write(data)
                code = proc.wait()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            if code != 0:
                errors.seek(0)
                tail = errors.read()[-800:].decode(errors="replace").strip()
                raise BackupError(f"pg_dump failed with exit code {code}: {tail}")
    return produce


def _grow_pipe(pipe):
    """Fewer, larger reads from pg_dump (Linux only; harmless elsewhere)."""
    try:
        import fcntl  # noqa: PLC0415
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), READ_SIZE)
    except (ImportError, OSError):
        pass


def _walk_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield os.path.join(dirpath, name)


# what tar adds to each file: a 512-byte header, a PAX header (2 blocks), padding
TAR_OVERHEAD = 3072


def filestore_size(root):
    """The estimated size of the filestore's tar stream (for the part size)."""
    total = 2 * tarfile.RECORDSIZE  # the end-of-archive blocks, rounded to a record
    if root and os.path.isdir(root):
        for path in _walk_files(root):
            try:
                total += os.lstat(path).st_size + TAR_OVERHEAD
            except OSError:
                pass  # removed meanwhile (attachment garbage collection)
    return total


def _dump_filestore(root, counter):
    """A producer writing a tar stream of the filestore (regular files only)."""
    def produce(writer):
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            if not root or not os.path.isdir(root):
                return
            for path in _walk_files(root):
                try:
                    info = tar.gettarinfo(path, arcname=os.path.relpath(path, root))
                    if not info.isfile():
                        continue
                    with open(path, "rb") as fh:
                        tar.addfile(info, fh)
                    counter["files"] += 1
                except FileNotFoundError:
                    continue  # garbage-collected while the backup ran
    return produce


def backup(client, bucket, prefix, dbname, pg_env, *, key, encrypt=True, compression="zstd",
           pg_dump="pg_dump", filestore=None, include_filestore=True, db_size=0,
           extra_args=None, on_part=None, chunk_size=crypto.DEFAULT_CHUNK,
           min_part=s3lib.MIN_PART_SIZE, now=None, info=None, lock_wait_timeout=None,
           spool_dir=None):
    """Back `dbname` (and its filestore) up under `<prefix>/<dbname>/<id>/`,
    encrypted with `key` when `encrypt`, its manifest authenticated with `key`
    in any case. Returns the manifest, with `manifest_key` and `duration` added.
    Raises BackupError; a failed backup leaves no manifest, so it is never counted."""
    if compression not in comp.KINDS:
        raise BackupError(f"unknown compression {compression!r}")
    _require_key(key)
    started = time.monotonic()
    now = now or datetime.now(timezone.utc)
    backup_id = retention.backup_id_for(now, secrets.token_hex(4))
    folder = base_prefix(prefix, dbname) + backup_id + "/"
    ctx = {"client": client, "bucket": bucket, "extra_args": dict(extra_args or {}),
           "on_part": on_part, "compression": compression, "key": key if encrypt else None,
           "chunk_size": chunk_size, "uploads": [], "done": [], "spool_dir": spool_dir}
    try:
        s3lib.check_bucket(client, bucket)
        version = _pg_dump_version(pg_dump)
        objects = [_stream_object(
            ctx, folder + object_name("database", compression, encrypt),
            s3lib.part_size_for(db_size, min_part),
            _dump_database(pg_dump, dbname, pg_env, lock_wait_timeout))]
        objects[0]["role"] = "database"
        counter = {"files": 0}
        if include_filestore:
            fs = _stream_object(
                ctx, folder + object_name("filestore", compression, encrypt),
                s3lib.part_size_for(filestore_size(filestore), min_part),
                _dump_filestore(filestore, counter))
            fs["role"] = "filestore"
            objects.append(fs)
        manifest = {
            "format": FORMAT, "version": FORMAT_VERSION, "backup_id": backup_id,
            "database": dbname, "prefix": normal_prefix(prefix),
            "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "pg_dump": version, "compression": compression, "filestore_files": counter["files"],
            "key_fingerprint": crypto.key_fingerprint(key),
            "encryption": ({"algorithm": "AES-256-GCM", "chunk_size": chunk_size,
                            "key_fingerprint": crypto.key_fingerprint(key)} if encrypt else None),
            "objects": objects, "info": info or {},
        }
        body = dict(manifest, mac=crypto.manifest_mac(key, _canonical(manifest)))
        manifest_key = folder + MANIFEST
        # if the reply is lost after the manifest was stored, the failure cleanup
        # must delete it too (never a manifest without its objects)
        ctx["done"].append(manifest_key)
        try:
            client.put_object(Bucket=bucket, Key=manifest_key, Body=_canonical(body),
                              ContentType="application/json", **ctx["extra_args"])
        except Exception as exc:
            raise s3lib.S3Error(s3lib.describe_error(exc, "store the manifest", bucket)) from exc
    except BaseException as exc:
        # also KeyboardInterrupt / SystemExit (SIGTERM in the command): abort the
        # uploads and delete the objects, then let the interruption through
        leftovers = []
        for upload in ctx["uploads"]:
            upload_id = upload.abort()
            if upload_id:
                leftovers.append({"key": upload.key, "upload_id": upload_id})
        leftovers += [{"key": k} for k in ctx["done"]]
        leftovers = cleanup(client, bucket, leftovers)
        if not isinstance(exc, Exception):
            raise
        if isinstance(exc, (BackupError, s3lib.S3Error, crypto.CryptoError)):
            message = str(exc)
        else:
            message = s3lib.describe_error(exc, "back up", bucket)
        raise BackupError(message, leftovers) from exc
    manifest["manifest_key"] = manifest_key
    manifest["duration"] = time.monotonic() - started
    return manifest


def cleanup(client, bucket, leftovers):
    """Abort the uploads and delete the objects a failed backup left; returns
    what still could not be cleaned (the S3 server is unreachable)."""
    remaining = []
    for item in leftovers:
        try:
            if item.get("upload_id"):
                s3lib.abort_upload(client, bucket, item["key"], item["upload_id"])
            else:
                s3lib.delete_keys(client, bucket, [item["key"]])
        except s3lib.S3Error:
            remaining.append(item)
    return remaining


# ---------------------------------------------------------------------------
# Listing and retention
# ---------------------------------------------------------------------------
def _listed_sets(client, bucket, base, key, page_size):
    """The backup sets under `base`, each with a manifest authenticated (see
    authenticate_sets)."""
    sets = retention.group_backups(base, ((k, size) for k, size, _m in s3lib.list_keys(
        client, bucket, base, page_size)))
    authenticate_sets(client, bucket, base, sets, key)
    return sets


def authenticate_sets(client, bucket, base, sets, key, now=None):
    """Mark each set of retention.group_backups() that has a manifest "authentic"
    when its manifest authenticates with `key` (load_manifest: HMAC, stored where
    it says, not dated in the future) and every object it lists is in the listing
    with the size it records; else record the reason as "problem"."""
    _require_key(key)
    now = now or datetime.now(timezone.utc)
    for bid, entry in sets.items():
        if not entry["manifest"]:
            continue
        entry["authentic"] = False
        if retention.is_future(bid, now):
            entry["problem"] = "dated in the future"
            continue
        try:
            manifest = load_manifest(client, bucket, f"{base}{bid}/{MANIFEST}", key)
        except BackupError as exc:
            entry["problem"] = str(exc)[:300]
            continue
        missing = [obj["key"].rsplit("/", 1)[-1] for obj in manifest["objects"]
                   if entry["sizes"].get(obj["key"]) != obj.get("size")]
        if missing:
            entry["problem"] = (f"{', '.join(missing)} missing, or not of the size its "
                                "manifest records")
            continue
        entry["authentic"] = True
    return sets


def list_backups(client, bucket, prefix, dbname, key, page_size=1000):
    """The backup sets of this profile and database, newest first:
    [{"backup_id", "created", "complete", "state", "problem", "keys", "manifest_key"}].
    Only a set whose manifest authenticates with `key` is "complete" (state
    "good"); a set with a manifest that does not is "rejected" (planted, altered,
    copied, made with another key); a set without one is "incomplete" (a failed
    or running backup)."""
    base = base_prefix(prefix, dbname)
    sets = _listed_sets(client, bucket, base, key, page_size)
    listed = []
    for bid, entry in sorted(sets.items(), reverse=True):
        state = ("good" if entry.get("authentic") else "rejected") if entry["manifest"] \
            else "incomplete"
        listed.append({"backup_id": bid, "created": retention.created_of(bid),
                       "complete": state == "good", "state": state,
                       "problem": entry.get("problem"), "keys": sorted(entry["keys"]),
                       "manifest_key": f"{base}{bid}/{MANIFEST}"})
    return listed


def apply_retention(client, bucket, prefix, dbname, keep_count, keep_days, *, key, now=None,
                    current=None, page_size=1000):
    """Delete what retention.expired() selects among the sets whose manifest
    authenticates with `key`. Returns {"deleted": [backup ids], "rejected":
    [(backup id, reason)]}: the sets with a manifest that does not authenticate,
    neither counted nor deleted, for the caller to alert about."""
    now = now or datetime.now(timezone.utc)
    base = base_prefix(prefix, dbname)
    sets = _listed_sets(client, bucket, base, key, page_size)
    doomed = retention.expired(sets, keep_count, keep_days, now, current)
    # manifests first: a half-deleted set is then one without a manifest (removed a
    # day later, as a failed run's), never an authentic manifest whose objects are
    # gone, which retention would keep and report
    manifests = [k for bid in doomed for k in sets[bid]["keys"] if k.endswith(MANIFEST)]
    objects = [k for bid in doomed for k in sets[bid]["keys"] if not k.endswith(MANIFEST)]
    for keys in (manifests, objects):
        if keys:
            s3lib.delete_keys(client, bucket, keys)
    return {"deleted": doomed, "rejected": retention.rejected(sets)}


# ---------------------------------------------------------------------------
# Verify and restore
# ---------------------------------------------------------------------------
def load_manifest(client, bucket, manifest_key, key):
    """The manifest at `manifest_key`, once it authenticates with `key` (HMAC)
    and describes the backup stored where it lies; BackupError otherwise."""
    _require_key(key)
    body = s3lib.open_object(client, bucket, manifest_key)
    try:
        raw = body.read(MAX_MANIFEST + 1)
    except Exception as exc:
        raise BackupError(s3lib.describe_error(exc, f"download {manifest_key}", bucket)) from exc
    finally:
        body.close()
    try:
        manifest = json.loads(raw)
        assert manifest.get("format") == FORMAT and isinstance(manifest.get("objects"), list)
        assert manifest.get("encryption") is None or isinstance(manifest["encryption"], dict)
    except (ValueError, AssertionError, AttributeError):
        raise BackupError(f"{manifest_key} is not a backup manifest") from None
    # until the MAC is checked, nothing of the manifest is repeated in a message
    # (it ends up in alerts and e-mails): whoever planted it chose every byte
    if manifest.get("version") != FORMAT_VERSION:
        version = manifest.get("version")
        raise BackupError(f"{manifest_key}: unsupported manifest version "
                          f"{version if isinstance(version, int) else '?'}")
    mac = manifest.pop("mac", None)
    if not isinstance(mac, str):
        # an unencrypted profile wrote no mac before every manifest was authenticated:
        # such a manifest cannot be told from one anybody with write access put there
        raise BackupError(f"{manifest_key} is not authenticated (it has no MAC): refused (not "
                          "written by this suite with a key, or written unencrypted before "
                          "every backup was authenticated)")
    encrypted = bool(manifest.get("encryption"))
    fingerprint = manifest.get("key_fingerprint") or (manifest.get("encryption") or {}).get(
        "key_fingerprint")
    if fingerprint != crypto.key_fingerprint(key):
        shown = fingerprint if isinstance(fingerprint, str) and re.fullmatch(
            r"[0-9a-f]{16}", fingerprint) else "unknown"
        raise BackupError(f"this backup was {'encrypted' if encrypted else 'authenticated'} "
                          f"with another key (fingerprint {shown}): refused, or configure "
                          "that key")
    if not secrets.compare_digest(mac, crypto.manifest_mac(key, _canonical(manifest))):
        raise BackupError(f"{manifest_key} failed authentication: the manifest was altered or "
                          "was not written with this key")
    _check_manifest_layout(manifest, manifest_key)
    return manifest


def _check_manifest_layout(manifest, manifest_key):
    """The manifest describes the backup stored where it lies (not an older one
    copied to a newer name, or to another profile's prefix: replay), and holds
    exactly the objects a restore needs."""
    backup_id, dbname = manifest.get("backup_id"), manifest.get("database")
    if not (isinstance(backup_id, str) and re.fullmatch(retention.BACKUP_ID_RE, backup_id)
            and isinstance(dbname, str) and DB_NAME_RE.match(dbname)):
        raise BackupError(f"{manifest_key} is not a backup manifest")
    folder = f"{dbname}/{backup_id}/"
    if "prefix" in manifest:
        where = isinstance(manifest["prefix"], str) and \
            base_prefix(manifest["prefix"], dbname) + backup_id + "/" + MANIFEST
    else:  # written before manifests recorded their prefix
        where = manifest_key if manifest_key == folder + MANIFEST or manifest_key.endswith(
            "/" + folder + MANIFEST) else None
    if manifest_key != where:
        raise BackupError(f"{manifest_key} describes backup {backup_id} of {dbname}, stored "
                          "elsewhere: refused (a manifest copied to another name)")
    if retention.created_of(backup_id) > datetime.now(timezone.utc) + retention.CLOCK_SKEW:
        raise BackupError(f"{manifest_key}: backup {backup_id} is dated in the future: refused")
    folder = manifest_key[:-len(MANIFEST)]
    encrypted = bool(manifest.get("encryption"))
    if manifest.get("compression") not in comp.KINDS:
        raise BackupError(f"{manifest_key}: unknown compression {manifest.get('compression')!r}")
    roles = []
    for obj in manifest["objects"]:
        role = obj.get("role") if isinstance(obj, dict) else None
        if role not in ("database", "filestore") or obj.get("key") != folder + object_name(
                role, manifest["compression"], encrypted):
            raise BackupError(f"{manifest_key} lists an object outside its backup: "
                              f"{obj.get('key') if isinstance(obj, dict) else obj!r}")
        roles.append(role)
    if roles.count("database") != 1 or roles.count("filestore") > 1:
        raise BackupError(f"{manifest_key} must list exactly one database object")
    if manifest.get("filestore_files") and "filestore" not in roles:
        raise BackupError(f"{manifest_key} records {manifest['filestore_files']} filestore "
                          "files but lists no filestore object")


def _checked_copy(client, bucket, obj, spool_dir):
    """A temporary file holding a stored object whose size and SHA-256 were checked
    against the manifest: an unencrypted object has no authentication of its own
    until its last byte, and nothing may reach pg_restore (or the filestore)
    before it is known to be the one this server stored."""
    name = obj["key"].rsplit("/", 1)[-1]
    tmp = tempfile.TemporaryFile(dir=spool_dir)
    try:
        body = s3lib.open_object(client, bucket, obj["key"])
        sha, size = hashlib.sha256(), 0
        try:
            for data in body.iter_chunks(READ_SIZE):
                size += len(data)
                if size > obj["size"]:
                    break  # bigger than the manifest says: not ours, and not worth keeping
                sha.update(data)
                tmp.write(data)
        except Exception as exc:
            raise BackupError(s3lib.describe_error(exc, f"download {name}", bucket)) from exc
        finally:
            body.close()
        if size != obj["size"] or sha.hexdigest() != obj["sha256"]:
            raise BackupError(f"{name}: SHA-256 of the stored object does not match the manifest")
        tmp.seek(0)
        return tmp
    except BaseException:
        tmp.close()
        raise


def _plaintext(client, bucket, manifest, obj, key, checked_first=False, spool_dir=None):
    """Yield an object's plaintext (at most comp.OUT_CHUNK bytes at a time),
    authenticated chunk by chunk; at the end, check its size and both SHA-256
    against the manifest. With `checked_first` (a restore), an unencrypted
    object is downloaded to a temporary file under `spool_dir` and checked
    before its first byte is yielded."""
    dec = crypto.Decryptor(key) if manifest.get("encryption") else None
    if checked_first and not dec:
        body = _checked_copy(client, bucket, obj, spool_dir)
        stored = iter(lambda: body.read(READ_SIZE), b"")
    else:
        body = s3lib.open_object(client, bucket, obj["key"])
        stored = body.iter_chunks(READ_SIZE)
    stored_sha, plain_sha, count = hashlib.sha256(), hashlib.sha256(), {"stored": 0}
    plain = 0
    name = obj["key"].rsplit("/", 1)[-1]

    def stored_chunks():
        for data in stored:
            stored_sha.update(data)
            count["stored"] += len(data)
            if dec:
                data = dec.update(data)
            if data:
                yield data
        if dec:
            dec.finalize()

    try:
        try:
            source = stored_chunks()
            for data in comp.decompress_iter(manifest["compression"], source):
                plain_sha.update(data)
                plain += len(data)
                yield data
            for _data in source:
                pass  # after the end of the compressed stream: hashed, and the tags checked
        except comp.DecompressError as exc:
            raise BackupError(f"{name}: cannot be decompressed ({exc}): the stored object is "
                              "corrupted") from exc
        except crypto.CryptoError as exc:
            raise BackupError(f"{name}: {exc}") from exc
        except BackupError:
            raise
        except Exception as exc:
            raise BackupError(s3lib.describe_error(exc, f"download {name}", bucket)) from exc
    finally:
        body.close()
    if count["stored"] != obj["size"] or stored_sha.hexdigest() != obj["sha256"]:
        raise BackupError(f"{name}: SHA-256 of the stored object does not match the manifest")
    if plain != obj["plain_size"] or plain_sha.hexdigest() != obj["plain_sha256"]:
        raise BackupError(f"{name}: SHA-256 of the restored data does not match the manifest")


def verify(client, bucket, manifest_key, key):
    """Download every object of a backup and check its hashes and every GCM tag."""
    started = time.monotonic()
    manifest = load_manifest(client, bucket, manifest_key, key)
    total = 0
    for obj in manifest["objects"]:
        for _data in _plaintext(client, bucket, manifest, obj, key):
            pass
        total += obj["size"]
    return {"objects": len(manifest["objects"]), "size": total,
            "duration": time.monotonic() - started, "manifest": manifest}


class _GenReader:
    """A read()-able file over a generator of bytes (for tarfile's stream mode)."""

    def __init__(self, gen):
        self._gen, self._buf = gen, bytearray()

    def read(self, size=-1):
        while size < 0 or len(self._buf) < size:
            try:
                self._buf += next(self._gen)
            except StopIteration:
                break
        size = len(self._buf) if size < 0 else size
        out = bytes(self._buf[:size])
        del self._buf[:size]
        return out

    def drain(self):
        for _data in self._gen:
            pass


def _connect(pg_env, dbname="postgres"):
    import psycopg2  # noqa: PLC0415
    conn = psycopg2.connect(dbname=dbname, host=pg_env.get("PGHOST") or None,
                            port=pg_env.get("PGPORT") or None, user=pg_env.get("PGUSER") or None,
                            password=pg_env.get("PGPASSWORD") or None,
                            sslmode=pg_env.get("PGSSLMODE") or None)
    conn.autocommit = True
    return conn


def _server_sql(pg_env, query, *names, params=None):
    """Run one statement on the server's `postgres` database, `{}` in `query`
    being the quoted database names; returns the first row, if any."""
    from psycopg2 import sql  # noqa: PLC0415
    conn = _connect(pg_env)
    try:
        with conn.cursor() as cr:
            cr.execute(sql.SQL(query).format(*map(sql.Identifier, names)), params)
            return cr.fetchone() if cr.description else None
    finally:
        conn.close()


def database_exists(pg_env, name):
    return bool(_server_sql(pg_env, "SELECT 1 FROM pg_database WHERE datname = %s",
                            params=(name,)))


def _create_database(pg_env, name):
    _server_sql(pg_env, "CREATE DATABASE {} ENCODING 'unicode' LC_COLLATE 'C' TEMPLATE template0",
                name)


def _drop_database(pg_env, name, attempts=5):
    import psycopg2.errors  # noqa: PLC0415
    for attempt in range(attempts):
        try:
            return _server_sql(pg_env, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
        except psycopg2.errors.InsufficientPrivilege:
            # FORCE cannot end a superuser's backend, such as an autovacuum
            # worker that has just started on the new database: it ends soon
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    return None


def _restore_database(client, bucket, manifest, obj, key, target, pg_env, pg_restore,
                      spool_dir=None):
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen([pg_restore, "--no-owner", "--exit-on-error",
                                     "--dbname", target], stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=errors, env=pg_env)
        except OSError as exc:
            raise BackupError(f"pg_restore cannot be run ({pg_restore}): {exc.strerror}") from exc
        broken = False
        try:
            for data in _plaintext(client, bucket, manifest, obj, key, checked_first=True,
                                   spool_dir=spool_dir):
                if not broken:
                    try:
                        proc.stdin.write(data)
                    except BrokenPipeError:
                        broken = True  # pg_restore stopped: keep reading to check the hashes
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if code != 0 or broken:
            errors.seek(0)
            tail = errors.read()[-800:].decode(errors="replace").strip()
            raise BackupError(f"pg_restore stopped at the first error (exit code {code}): {tail}")


def _safe_member(member, dest):
    path = os.path.realpath(os.path.join(dest, member.name))
    return (member.isfile() or member.isdir()) and path.startswith(os.path.realpath(dest) + os.sep)


def _restore_filestore(client, bucket, manifest, obj, key, dest, spool_dir=None):
    reader = _GenReader(_plaintext(client, bucket, manifest, obj, key, checked_first=True,
                                   spool_dir=spool_dir))
    os.makedirs(dest, exist_ok=True)
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                if not _safe_member(member, dest):
                    raise BackupError(f"the filestore archive holds an unsafe entry: {member.name}")
                if hasattr(tarfile, "data_filter"):
                    tar.extract(member, dest, filter="data")
                else:
                    tar.extract(member, dest)
    except tarfile.TarError as exc:
        raise BackupError(f"the filestore archive is corrupted: {exc}") from exc
    reader.drain()  # the end of the stream: final chunk and hashes are checked


STAGING_MARK = "__restoring_"


STAGING_LOCK = "SELECT {}(hashtext('selfhost_backup.restore'), hashtext(%s))"


def _rename_database(pg_env, old, new):
    _server_sql(pg_env, "ALTER DATABASE {} RENAME TO {}", old, new)


def _claim_staging(pg_env, staging):
    """A connection holding a lock on the staging name while the restore runs:
    when the process dies, PostgreSQL ends the session and releases it."""
    conn = _connect(pg_env)
    with conn.cursor() as cr:
        cr.execute(STAGING_LOCK.format("pg_advisory_lock"), [staging])
    return conn


def _write_marker(marker_dir, name):
    """Record that this server creates the staging database `name`: only a
    database with such a marker is ever dropped as an abandoned restore."""
    os.makedirs(marker_dir, mode=0o700, exist_ok=True)
    fd = os.open(os.path.join(marker_dir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps({"database": name, "pid": os.getpid(),
                             "created": datetime.now(timezone.utc).isoformat()}))
        fh.flush()
        os.fsync(fh.fileno())


def _remove_marker(marker_dir, name):
    try:
        os.unlink(os.path.join(marker_dir, name))
    except FileNotFoundError:
        pass


def begin_staging(pg_env, marker_dir, staging):
    """Claim the staging name (lock), record it (marker under `marker_dir`),
    then create the staging database. Returns the connection holding the lock."""
    claim = _claim_staging(pg_env, staging)
    try:
        _write_marker(marker_dir, staging)
        try:
            _create_database(pg_env, staging)
        except BaseException:
            _remove_marker(marker_dir, staging)  # not created: not ours to drop, ever
            raise
    except BaseException:
        claim.close()
        raise
    return claim


def drop_abandoned_stagings(pg_env, filestore_root=None, marker_dir=None):
    """Drop the staging databases (and filestores) of restores that were
    killed: those this server recorded under `marker_dir` (see begin_staging)
    and whose lock no session holds. A database merely named like a staging
    one is never touched. Returns the names of the databases dropped."""
    import psycopg2  # noqa: PLC0415
    if not marker_dir or not os.path.isdir(marker_dir):
        return []
    names = sorted(name for name in os.listdir(marker_dir)
                   if DB_NAME_RE.match(name) and STAGING_MARK in name)
    dropped = []
    if not names:
        return dropped
    conn = _connect(pg_env)
    try:
        with conn.cursor() as cr:
            for name in names:
                cr.execute(STAGING_LOCK.format("pg_try_advisory_lock"), [name])
                if not cr.fetchone()[0]:
                    continue  # its restore is running
                try:
                    existed = database_exists(pg_env, name)
                    _drop_database(pg_env, name)
                    if filestore_root:
                        shutil.rmtree(os.path.join(filestore_root, name), ignore_errors=True)
                    _remove_marker(marker_dir, name)
                    if existed:
                        dropped.append(name)
                except psycopg2.Error as exc:
                    _logger.warning("could not drop the abandoned restore %s: %s", name, exc)
                finally:
                    cr.execute(STAGING_LOCK.format("pg_advisory_unlock"), [name])
    finally:
        conn.close()
    return dropped


def restore(client, bucket, manifest_key, key, target_db, pg_env, *, marker_dir,
            pg_restore="pg_restore", filestore_root=None, spool_dir=None):
    """Restore a backup into a NEW database `target_db` (and its filestore under
    `filestore_root/target_db`); refuses an existing database or filestore, and
    any manifest or object that does not authenticate with `key`. On any failure
    the new database and filestore are removed again.

    The restore goes into a staging database and filestore
    (`<target>__restoring_<random>`), renamed to `target_db` only once complete:
    a process killed meanwhile (no cleanup runs) leaves the staging copy, never
    a half-restored `target_db`, and a retry under the same name works. The
    staging name is recorded by a marker file under `marker_dir` (this server's
    data directory) until the copy is renamed or dropped; the next restore drops
    the recorded leftovers (see drop_abandoned_stagings). Unencrypted objects
    are checked in a temporary file under `spool_dir` before they are restored."""
    started = time.monotonic()
    if not marker_dir:
        raise BackupError("a restore needs a directory for its staging markers")
    if not DB_NAME_RE.match(target_db or "") or STAGING_MARK in target_db:
        raise BackupError("the new database name may contain only letters, digits, '_', '-' "
                          "and '.'")
    if database_exists(pg_env, target_db):
        raise BackupError(f"the database {target_db!r} already exists: restore into a new "
                          "database name")
    dest = os.path.join(filestore_root, target_db) if filestore_root else None
    if dest and os.path.exists(dest) and os.listdir(dest):
        raise BackupError(f"a filestore already exists at {dest}: restore into a new "
                          "database name")
    manifest = load_manifest(client, bucket, manifest_key, key)
    staging = f"{target_db[:40]}{STAGING_MARK}{secrets.token_hex(4)}"
    staging_dest = os.path.join(filestore_root, staging) if filestore_root else None
    drop_abandoned_stagings(pg_env, filestore_root, marker_dir)
    claim = begin_staging(pg_env, marker_dir, staging)
    try:
        _restore_into(client, bucket, manifest, key, target_db, pg_env, pg_restore, staging,
                      staging_dest, dest, spool_dir)
    finally:
        try:
            if not database_exists(pg_env, staging):  # renamed or dropped
                _remove_marker(marker_dir, staging)
        except Exception:  # noqa: BLE001 (the marker then stays for the next cleanup)
            _logger.warning("the staging database %s could not be checked", staging)
        claim.close()
    return {"database": target_db, "filestore": dest, "manifest": manifest,
            "duration": time.monotonic() - started}


def _restore_into(client, bucket, manifest, key, target_db, pg_env, pg_restore, staging,
                  staging_dest, dest, spool_dir):
    try:
        for obj in manifest["objects"]:
            if obj["role"] == "database":
                _restore_database(client, bucket, manifest, obj, key, staging, pg_env,
                                  pg_restore, spool_dir)
            elif obj["role"] == "filestore" and staging_dest:
                _restore_filestore(client, bucket, manifest, obj, key, staging_dest, spool_dir)
        if database_exists(pg_env, target_db):
            raise BackupError(f"the database {target_db!r} was created meanwhile")
        if staging_dest and os.path.isdir(staging_dest):
            if os.path.isdir(dest) and not os.listdir(dest):
                os.rmdir(dest)
            os.rename(staging_dest, dest)
        _rename_database(pg_env, staging, target_db)
    except BaseException:
        _drop_database(pg_env, staging)
        for path in (staging_dest, dest):
            if path and not database_exists(pg_env, target_db):
                shutil.rmtree(path, ignore_errors=True)
        raise
