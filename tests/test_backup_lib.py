"""selfhost_backup's plain-Python pipeline, without Odoo: the chunked AES-256-GCM
format, part sizing, retention, and backup/verify/restore against the S3
server and PostgreSQL that `make test` starts."""
import importlib.util
import io
import os
import secrets
import sys
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "addons" / "selfhost_backup" / "lib"


def _load_lib():
    spec = importlib.util.spec_from_file_location("selfhost_backup_lib", LIB / "__init__.py",
                                                  submodule_search_locations=[str(LIB)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["selfhost_backup_lib"] = package
    spec.loader.exec_module(package)
    return package


_load_lib()
from selfhost_backup_lib import crypto, pipeline, retention  # noqa: E402
from selfhost_backup_lib import s3 as s3lib  # noqa: E402

KEY = secrets.token_bytes(32)


def _markers(tmp_path):
    """The directory of a test's staging markers (under the server's data dir)."""
    return str(tmp_path / "stagings")


def encrypt(data, chunk=1024, key=KEY):
    enc = crypto.Encryptor(key, chunk)
    out = b"".join(enc.update(data[i:i + 777]) for i in range(0, len(data), 777))
    return out + enc.finalize()


def decrypt(blob, key=KEY, step=1000):
    dec = crypto.Decryptor(key)
    out = b"".join(dec.update(blob[i:i + step]) for i in range(0, len(blob), step))
    dec.finalize()
    return out


# --- the encrypted format -----------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 10_000])
def test_round_trip_any_size_and_slicing(size):
    data = os.urandom(size)
    blob = encrypt(data)
    assert decrypt(blob) == data
    assert decrypt(blob, step=1) == data
    assert size < 64 or data[:64] not in blob  # no plaintext in the ciphertext


def test_same_plaintext_encrypts_differently():
    assert encrypt(b"a" * 5000) != encrypt(b"a" * 5000)


def test_flipped_bit_anywhere_fails_authentication():
    blob = encrypt(os.urandom(5000))
    for pos in (0, 10, crypto.HEADER.size + 2, crypto.HEADER.size + 20, len(blob) // 2,
                len(blob) - 1):
        bad = bytearray(blob)
        bad[pos] ^= 0x10
        with pytest.raises(crypto.CryptoError):
            decrypt(bytes(bad))


def test_truncation_is_detected():
    blob = encrypt(os.urandom(5000))
    frame = crypto.FRAME.size + 1024 + crypto.TAG_SIZE
    # cut at a chunk boundary: every chunk left authenticates, the final one is missing
    with pytest.raises(crypto.CryptoError, match="final chunk is missing"):
        decrypt(blob[:crypto.HEADER.size + 2 * frame])
    with pytest.raises(crypto.CryptoError, match="truncated"):
        decrypt(blob[:-5])
    with pytest.raises(crypto.CryptoError, match="truncated"):
        decrypt(blob[:10])


def test_reordered_chunks_and_trailing_data_are_detected():
    blob = encrypt(os.urandom(4096))
    frame = crypto.FRAME.size + 1024 + crypto.TAG_SIZE
    h = crypto.HEADER.size
    swapped = blob[:h] + blob[h + frame:h + 2 * frame] + blob[h:h + frame] + blob[h + 2 * frame:]
    with pytest.raises(crypto.CryptoError, match="failed authentication"):
        decrypt(swapped)
    with pytest.raises(crypto.CryptoError, match="after the final chunk"):
        decrypt(blob + blob[h:h + frame])


def test_wrong_key_fails():
    with pytest.raises(crypto.CryptoError, match="failed authentication"):
        decrypt(encrypt(b"secret data"), key=secrets.token_bytes(32))


def test_key_parsing():
    assert crypto.parse_key(KEY.hex()) == KEY
    import base64
    assert crypto.parse_key(base64.b64encode(KEY).decode()) == KEY
    for bad in ("", "short", "zz" * 32, base64.b64encode(b"x" * 16).decode()):
        with pytest.raises(crypto.CryptoError):
            crypto.parse_key(bad)


# --- part sizing and retention --------------------------------------------------
def test_part_size_fits_ten_thousand_parts():
    mib, tib = 1024 ** 2, 1024 ** 4
    assert s3lib.part_size_for(0) == 8 * mib
    assert s3lib.part_size_for(10 * 1024 * mib) == 8 * mib
    for size in (100 * 1024 ** 3, 1 * tib, 5 * tib, 20 * tib):
        part = s3lib.part_size_for(size)
        assert part % mib == 0
        assert part * s3lib.MAX_PARTS >= size * s3lib.GROWTH_MARGIN
        assert part <= s3lib.MAX_PART_SIZE
    with pytest.raises(s3lib.S3Error):
        s3lib.part_size_for(30 * tib)


def _sets(*specs):
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    sets = {}
    for days, complete in specs:
        bid = retention.backup_id_for(now - timedelta(days=days), secrets.token_hex(4))
        sets[bid] = {"keys": [], "complete": complete}
    return now, sets


def test_retention_never_leaves_zero_good_backups():
    now, sets = _sets((10, True), (20, True), (30, True))
    newest = max(sets)
    assert sorted(retention.expired(sets, 0, 5, now)) == sorted(set(sets) - {newest})
    assert retention.expired(sets, 0, 0, now) == []
    assert sorted(retention.expired(sets, 1, 0, now)) == sorted(set(sets) - {newest})


def test_retention_only_touches_own_naming():
    base = "pfx/db/"
    bid = "20260101T000000Z-0123abcd"
    keys = [f"{base}{bid}/manifest.json", f"{base}{bid}/db.dump.zst.aes",
            f"{base}{bid}/extra.txt", f"{base}notes", f"{base}sub/{bid}/manifest.json",
            f"pfx/db2/{bid}/manifest.json", f"{base}20260101T000000Z-XYZ/manifest.json"]
    sets = retention.group_backups(base, keys)
    assert sets == {bid: {"keys": [f"{base}{bid}/manifest.json",
                                   f"{base}{bid}/db.dump.zst.aes"], "complete": True}}


# --- against the local S3 server and PostgreSQL ----------------------------------
def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite's tests with `make test`")
    return value


@pytest.fixture(scope="module")
def s3():
    client = s3lib.make_client(_env("SUITE_S3_ENDPOINT"), None, _env("SUITE_S3_ACCESS_KEY"),
                               _env("SUITE_S3_SECRET_KEY"), "path")
    return client, _env("SUITE_S3_BUCKET")


@pytest.fixture()
def pg():
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=_env("SUITE_PG_PORT"), PGUSER="odoo",
               PGPASSWORD=_env("SUITE_PG_PASSWORD"))
    bindir = os.environ.get("SUITE_PG_BINDIR", "")
    tools = {t: os.path.join(bindir, t) if bindir else t for t in ("pg_dump", "pg_restore")}
    names = []

    def make(sql):
        name = "sb_lib_" + secrets.token_hex(4)
        names.append(name)
        conn = pipeline._connect(env)
        with conn.cursor() as cr:
            cr.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        conn = pipeline._connect(env, name)
        with conn.cursor() as cr:
            cr.execute(sql)
        conn.close()
        return name

    yield env, tools, make, names
    for name in names:
        pipeline._drop_database(env, name)


def test_paginated_listing(s3):
    client, bucket = s3
    prefix = "lib-list-" + secrets.token_hex(4) + "/"
    keys = [f"{prefix}k{i:02d}" for i in range(7)]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert [k for k, _s, _m in s3lib.list_keys(client, bucket, prefix, page_size=2)] == keys
    assert s3lib.delete_keys(client, bucket, keys) == 7
    assert not list(s3lib.list_keys(client, bucket, prefix))


def test_multipart_spans_parts_and_failure_aborts(s3):
    client, bucket = s3
    key = "lib-mp-" + secrets.token_hex(4)
    part = 5 * 1024 * 1024
    upload = s3lib.MultipartUpload(client, bucket, key, part).start()
    data = os.urandom(part * 2 + 123)
    for i in range(0, len(data), 100_000):
        upload.write(data[i:i + 100_000])
    upload.complete()
    assert len(upload.parts) == 3
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    client.delete_object(Bucket=bucket, Key=key)

    upload = s3lib.MultipartUpload(client, bucket, key, part).start()
    upload.write(os.urandom(part + 10))
    assert upload.abort() is None
    assert not [u for u in s3lib.list_uploads(client, bucket, key) if u[0] == key]
    assert not list(s3lib.list_keys(client, bucket, key))


def test_large_parts_are_spooled_to_disk(s3, monkeypatch, tmp_path):
    client, bucket = s3
    key = "lib-spool-" + secrets.token_hex(4)
    part = 5 * 1024 * 1024
    monkeypatch.setattr(s3lib, "MEMORY_PART_LIMIT", part - 1)
    spool = tmp_path / "spool"
    spool.mkdir()
    upload = s3lib.MultipartUpload(client, bucket, key, part, spool_dir=str(spool)).start()
    assert not isinstance(upload._buf, bytearray)
    # in the directory given (Odoo's data_dir), not in /tmp (often a tmpfs: memory)
    assert os.readlink(f"/proc/self/fd/{upload._buf.fileno()}").startswith(str(spool) + "/")
    data = os.urandom(part + 4567)
    upload.write(data)
    upload.complete()
    assert len(upload.parts) == 2
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    client.delete_object(Bucket=bucket, Key=key)


def test_restore_stops_at_first_sql_error(s3, pg, tmp_path):
    """An index on a function whose body relies on the search_path: it builds in
    the source, and fails during the restore (pg_restore runs with an empty
    search_path). pg_restore stops there and the new database is removed."""
    client, bucket = s3
    env, tools, make, names = pg
    src = make("CREATE TABLE t2 (a int); INSERT INTO t2 VALUES (1);"
               "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql IMMUTABLE"
               " AS 'SELECT x + (SELECT count(*)::int FROM t2)';"
               "CREATE TABLE t AS SELECT g AS v FROM generate_series(1, 1000) g;"
               "CREATE INDEX t_f ON t (f(v))")
    manifest = pipeline.backup(client, bucket, "lib-sqlerr", src, env, key=KEY,
                               pg_dump=tools["pg_dump"], include_filestore=False)
    target = "sb_lib_target_" + secrets.token_hex(3)
    names.append(target)
    with pytest.raises(pipeline.BackupError,
                       match=r"(?s)stopped at the first error.*t2.* does not exist"):
        pipeline.restore(client, bucket, manifest["manifest_key"], KEY, target, env,
                         marker_dir=_markers(tmp_path), pg_restore=tools["pg_restore"],
                         filestore_root=str(tmp_path))
    assert not pipeline.database_exists(env, target)


def test_backup_of_missing_database_fails_and_leaves_nothing(s3, pg):
    client, bucket = s3
    env, tools, _make, _names = pg
    prefix = "lib-missing-" + secrets.token_hex(4)
    with pytest.raises(pipeline.BackupError, match="pg_dump failed with exit code 1.*does not exist"):
        pipeline.backup(client, bucket, prefix, "no_such_db_" + secrets.token_hex(3), env,
                        key=KEY, pg_dump=tools["pg_dump"])
    assert not list(s3lib.list_keys(client, bucket, prefix + "/"))
    assert not s3lib.list_uploads(client, bucket, prefix + "/")


def test_filestore_archive_round_trip(s3, pg, tmp_path):
    client, bucket = s3
    env, tools, make, names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('x')")
    store = tmp_path / "filestore" / src
    files = {f"{i:02x}/{secrets.token_hex(20)}": os.urandom(1000 * i) for i in range(1, 6)}
    for rel, data in files.items():
        (store / rel).parent.mkdir(parents=True, exist_ok=True)
        (store / rel).write_bytes(data)
    manifest = pipeline.backup(client, bucket, "lib-fs", src, env, key=KEY, compression="gzip",
                               pg_dump=tools["pg_dump"], filestore=str(store))
    assert manifest["filestore_files"] == len(files)
    target = "sb_lib_fs_" + secrets.token_hex(3)
    names.append(target)
    pipeline.restore(client, bucket, manifest["manifest_key"], KEY, target, env,
                     marker_dir=_markers(tmp_path), pg_restore=tools["pg_restore"],
                     filestore_root=str(tmp_path / "filestore"))
    for rel, data in files.items():
        assert (tmp_path / "filestore" / target / rel).read_bytes() == data


def test_flipped_byte_in_unencrypted_backup_fails_verify(s3, pg):
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t AS SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
    manifest = pipeline.backup(client, bucket, "lib-plain", src, env, key=None,
                               pg_dump=tools["pg_dump"], include_filestore=False)
    assert pipeline.verify(client, bucket, manifest["manifest_key"], None)["objects"] == 1
    key = manifest["objects"][0]["key"]
    data = bytearray(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    data[len(data) // 2] ^= 0x01
    client.put_object(Bucket=bucket, Key=key, Body=bytes(data))
    with pytest.raises(pipeline.BackupError, match="db.dump.zst: .*(SHA-256|decompressed)"):
        pipeline.verify(client, bucket, manifest["manifest_key"], None)


def test_unsafe_archive_member_is_refused(tmp_path):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    member = tarfile.open(fileobj=io.BytesIO(raw.getvalue())).getmembers()[0]
    assert not pipeline._safe_member(member, str(tmp_path))


# --- review fixes: downgrade, replay, interrupted and half-failed backups ---------
def _manifest(client, bucket, key):
    import json  # noqa: PLC0415
    return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def _put_manifest(client, bucket, key, manifest):
    import json  # noqa: PLC0415
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())


def test_unencrypted_manifest_is_refused_when_the_profile_has_a_key(s3, pg, tmp_path):
    """Someone with write access to the bucket replaces an encrypted backup by an
    unencrypted one of their own, consistent in every hash: refused (downgrade)."""
    client, bucket = s3
    env, tools, make, names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('genuine')")
    genuine = pipeline.backup(client, bucket, "lib-downgrade", src, env, key=KEY,
                              pg_dump=tools["pg_dump"], include_filestore=False)
    evil = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('backdoor')")
    forged = pipeline.backup(client, bucket, "lib-downgrade-evil", evil, env, key=None,
                             pg_dump=tools["pg_dump"], include_filestore=False)
    folder = genuine["manifest_key"].rsplit("/", 1)[0] + "/"
    body = _manifest(client, bucket, forged["manifest_key"])
    body.update(backup_id=genuine["backup_id"], database=src)
    for obj in body["objects"]:
        new_key = folder + obj["key"].rsplit("/", 1)[1]
        client.copy_object(Bucket=bucket, Key=new_key,
                           CopySource={"Bucket": bucket, "Key": obj["key"]})
        obj["key"] = new_key
    assert body["encryption"] is None and body["mac"] is None
    _put_manifest(client, bucket, genuine["manifest_key"], body)
    with pytest.raises(pipeline.BackupError, match="is not encrypted, but this profile encrypts"):
        pipeline.verify(client, bucket, genuine["manifest_key"], KEY)
    target = "sb_lib_downgrade_" + secrets.token_hex(3)
    names.append(target)
    with pytest.raises(pipeline.BackupError, match="is not encrypted"):
        pipeline.restore(client, bucket, genuine["manifest_key"], KEY, target, env,
                         marker_dir=_markers(tmp_path), pg_restore=tools["pg_restore"],
                         filestore_root=str(tmp_path))
    assert not pipeline.database_exists(env, target)
    # a manifest without a mac at all is refused too
    body["encryption"] = _manifest(client, bucket, forged["manifest_key"])["encryption"] or {
        "algorithm": "AES-256-GCM", "chunk_size": crypto.DEFAULT_CHUNK,
        "key_fingerprint": crypto.key_fingerprint(KEY)}
    body.pop("mac")
    _put_manifest(client, bucket, genuine["manifest_key"], body)
    with pytest.raises(pipeline.BackupError, match="failed authentication"):
        pipeline.verify(client, bucket, genuine["manifest_key"], KEY)


@pytest.mark.parametrize("objects", ["none", "two_databases", "missing_filestore", "foreign"])
def test_manifest_must_list_exactly_the_objects_of_its_backup(s3, pg, tmp_path, objects):
    """Unencrypted backups have no mac: a manifest listing no database object
    would restore an empty database without an error."""
    client, bucket = s3
    env, tools, make, names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('x')")
    store = tmp_path / "fs"
    (store / "ab").mkdir(parents=True)
    (store / "ab" / "file").write_bytes(b"data")
    manifest = pipeline.backup(client, bucket, "lib-objects", src, env, key=None,
                               pg_dump=tools["pg_dump"], filestore=str(store))
    body = _manifest(client, bucket, manifest["manifest_key"])
    db_obj, fs_obj = body["objects"]
    body["objects"] = {"none": [], "two_databases": [db_obj, db_obj],
                       "missing_filestore": [db_obj],
                       "foreign": [dict(db_obj, key="elsewhere/db.dump.zst"), fs_obj]}[objects]
    _put_manifest(client, bucket, manifest["manifest_key"], body)
    pattern = {"none": "exactly one database object", "two_databases": "exactly one database",
               "missing_filestore": "lists no filestore object",
               "foreign": "lists an object outside its backup"}[objects]
    with pytest.raises(pipeline.BackupError, match=pattern):
        pipeline.verify(client, bucket, manifest["manifest_key"], None)
    target = "sb_lib_objects_" + secrets.token_hex(3)
    names.append(target)
    with pytest.raises(pipeline.BackupError, match=pattern):
        pipeline.restore(client, bucket, manifest["manifest_key"], None, target, env,
                         marker_dir=_markers(tmp_path), pg_restore=tools["pg_restore"],
                         filestore_root=str(tmp_path))
    assert not pipeline.database_exists(env, target)


def test_signed_manifest_copied_to_another_name_is_refused(s3, pg):
    """Replay: an old signed manifest (and its objects) copied under a newer or a
    future-dated backup id is never verified, restored, or picked as the newest."""
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('old')")
    prefix = "lib-replay-" + secrets.token_hex(4)
    manifest = pipeline.backup(client, bucket, prefix, src, env, key=KEY,
                               pg_dump=tools["pg_dump"], include_filestore=False)
    assert pipeline.verify(client, bucket, manifest["manifest_key"], KEY)["objects"] == 1
    base = pipeline.base_prefix(prefix, src)
    soon = retention.backup_id_for(datetime.now(timezone.utc) + timedelta(minutes=1), "0badc0de")
    for new_id in ("20991231T000000Z-deadbeef", soon):
        for obj_key in [o["key"] for o in manifest["objects"]] + [manifest["manifest_key"]]:
            client.copy_object(Bucket=bucket, Key=f"{base}{new_id}/{obj_key.rsplit('/', 1)[1]}",
                               CopySource={"Bucket": bucket, "Key": obj_key})
        with pytest.raises(pipeline.BackupError, match="stored elsewhere"):
            pipeline.verify(client, bucket, f"{base}{new_id}/manifest.json", KEY)
    listed = pipeline.list_backups(client, bucket, prefix, src)
    assert [b["backup_id"] for b in listed if b["complete"]][0] != "20991231T000000Z-deadbeef"
    assert not [b for b in listed if b["backup_id"].startswith("2099") and b["complete"]]


def test_future_dated_backup_is_never_the_newest_kept():
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    sets = {bid: {"keys": [], "complete": True} for bid in (
        "20991231T000000Z-deadbeef", "20260531T000000Z-00000001", "20260530T000000Z-00000002")}
    # the future-dated set neither counts as the newest nor is deleted (it is not ours)
    assert retention.expired(sets, 1, 0, now) == ["20260530T000000Z-00000002"]


def test_interrupted_backup_aborts_its_uploads(s3, pg):
    """Ctrl-C / SIGTERM (SystemExit) during an upload: the upload is aborted and
    the interruption goes through."""
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('x')")
    prefix = "lib-interrupt-" + secrets.token_hex(4)

    def interrupt(_key, _number):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pipeline.backup(client, bucket, prefix, src, env, key=KEY, pg_dump=tools["pg_dump"],
                        include_filestore=False, on_part=interrupt)
    assert not s3lib.list_uploads(client, bucket, prefix + "/")
    assert not list(s3lib.list_keys(client, bucket, prefix + "/"))


def test_manifest_stored_but_reply_lost_leaves_nothing(s3, pg):
    """The manifest PUT reaches S3 but its reply is lost (a fault that cannot be
    caused on demand with a real server: the real call runs, then we raise)."""
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('x')")
    prefix = "lib-lostreply-" + secrets.token_hex(4)
    real_put = client.put_object

    def put_then_lose_reply(**kwargs):
        real_put(**kwargs)
        if kwargs["Key"].endswith("/manifest.json"):
            raise ConnectionResetError("connection reset by peer")

    client.put_object = put_then_lose_reply
    try:
        with pytest.raises(pipeline.BackupError):
            pipeline.backup(client, bucket, prefix, src, env, key=KEY, pg_dump=tools["pg_dump"],
                            include_filestore=False)
    finally:
        del client.put_object
    assert not list(s3lib.list_keys(client, bucket, prefix + "/"))


@pytest.mark.parametrize("kind", ["zstd", "gzip"])
def test_decompression_bomb_is_read_in_bounded_steps(s3, kind):
    """64 MiB of zeros compress to a few KiB: a restore never holds more than
    one output chunk of it (a crafted object could expand to terabytes)."""
    import hashlib  # noqa: PLC0415
    import zlib  # noqa: PLC0415

    import zstandard  # noqa: PLC0415
    client, bucket = s3
    plain = bytes(64 * 1024 * 1024)
    if kind == "zstd":
        stored = zstandard.ZstdCompressor(level=3).compress(plain)
    else:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        stored = packer.compress(plain) + packer.flush()
    assert len(stored) < 256 * 1024
    key = f"lib-bomb-{secrets.token_hex(4)}/db.dump"
    client.put_object(Bucket=bucket, Key=key, Body=stored)
    obj = {"key": key, "size": len(stored), "sha256": hashlib.sha256(stored).hexdigest(),
           "plain_size": len(plain), "plain_sha256": hashlib.sha256(plain).hexdigest()}
    sizes = [len(chunk) for chunk in pipeline._plaintext(
        client, bucket, {"compression": kind, "encryption": None}, obj, None)]
    client.delete_object(Bucket=bucket, Key=key)
    assert sum(sizes) == len(plain)
    assert max(sizes) <= 1024 * 1024


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "absolute", "device"])
def test_links_absolute_paths_and_devices_in_the_filestore_archive_are_refused(tmp_path, kind):
    info = tarfile.TarInfo({"absolute": "/etc/cron.d/evil"}.get(kind, "ab/entry"))
    if kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    elif kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, "/etc/passwd"
    elif kind == "device":
        info.type = tarfile.CHRTYPE
    dest = tmp_path / "fs"
    dest.mkdir()
    assert not pipeline._safe_member(info, str(dest))


def test_tampered_filestore_object_fails_verify(s3, pg, tmp_path):
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t (v text)")
    store = tmp_path / "fs"
    (store / "ab").mkdir(parents=True)
    (store / "ab" / "file").write_bytes(os.urandom(300_000))
    manifest = pipeline.backup(client, bucket, "lib-fs-tamper", src, env, key=KEY,
                               pg_dump=tools["pg_dump"], filestore=str(store))
    key = next(o["key"] for o in manifest["objects"] if o["role"] == "filestore")
    data = bytearray(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    data[-40] ^= 0x01
    client.put_object(Bucket=bucket, Key=key, Body=bytes(data))
    with pytest.raises(pipeline.BackupError,
                       match=r"filestore\.tar\.zst\.aes: .*failed authentication"):
        pipeline.verify(client, bucket, manifest["manifest_key"], KEY)


def test_filestore_estimate_counts_tar_overhead(tmp_path):
    """Many small attachments: tar's headers and padding dominate the stream."""
    for i in range(50):
        (tmp_path / f"f{i}").write_bytes(b"x")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for i in range(50):
            tar.add(tmp_path / f"f{i}", arcname=f"f{i}")
    assert pipeline.filestore_size(str(tmp_path)) >= len(buf.getvalue())


_RESTORE_SCRIPT = """
import importlib.util, json, sys
lib = sys.argv[1]
spec = importlib.util.spec_from_file_location(
    "selfhost_backup_lib", lib + "/__init__.py", submodule_search_locations=[lib])
package = importlib.util.module_from_spec(spec)
sys.modules["selfhost_backup_lib"] = package
spec.loader.exec_module(package)
from selfhost_backup_lib import pipeline, s3 as s3lib
a = json.loads(sys.argv[2])
client = s3lib.make_client(a["endpoint"], None, a["access"], a["secret"], "path")
pipeline.restore(client, a["bucket"], a["manifest_key"], bytes.fromhex(a["key"]), a["target"],
                 a["env"], marker_dir=a["markers"], pg_restore=a["pg_restore"],
                 filestore_root=a["root"])
"""


def test_restore_killed_halfway_leaves_no_target_database(s3, pg, tmp_path):
    """SIGKILL (Odoo's limit_time_real) during pg_restore: no cleanup runs, yet the
    target name stays free (the restore went into a staging database) and a
    retry under the same name works."""
    import json  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import time  # noqa: PLC0415
    client, bucket = s3
    env, tools, make, names = pg
    src = make("CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM generate_series(1, 300000) g")
    manifest = pipeline.backup(client, bucket, "lib-killed-restore", src, env, key=KEY,
                               pg_dump=tools["pg_dump"], include_filestore=False)
    marker = tmp_path / "pg_restore_started"
    wrapper = tmp_path / "pg_restore"
    real = shutil.which(tools["pg_restore"]) or tools["pg_restore"]
    wrapper.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    target = "sb_lib_killed_" + secrets.token_hex(3)
    names.append(target)
    args = {"endpoint": _env("SUITE_S3_ENDPOINT"), "access": _env("SUITE_S3_ACCESS_KEY"),
            "secret": _env("SUITE_S3_SECRET_KEY"), "bucket": bucket,
            "manifest_key": manifest["manifest_key"], "key": KEY.hex(), "target": target,
            "env": env, "pg_restore": str(wrapper), "root": str(tmp_path / "filestore"),
            "markers": _markers(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", _RESTORE_SCRIPT, str(LIB), json.dumps(args)])
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.exists(), "pg_restore was started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = pipeline._connect(env)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                       [target + pipeline.STAGING_MARK + "%"])
            leftovers = [name for (name,) in cr.fetchall()]
    finally:
        conn.close()
    names.extend(leftovers)
    assert leftovers, "the killed restore left its staging database, under another name"
    assert not pipeline.database_exists(env, target)
    assert sorted(os.listdir(_markers(tmp_path))) == leftovers, "recorded by a marker"
    # a restore running meanwhile (its session holds the lock on its staging name)
    running = target + pipeline.STAGING_MARK + "running"
    names.append(running)
    claim = pipeline.begin_staging(env, _markers(tmp_path), running)
    time.sleep(0.5)  # the orphaned pg_restore sees the end of its input and stops
    try:
        pipeline.restore(client, bucket, manifest["manifest_key"], KEY, target, env,
                         marker_dir=_markers(tmp_path), pg_restore=tools["pg_restore"],
                         filestore_root=str(tmp_path / "filestore"))
        for name in leftovers:  # the retry dropped what the killed one left
            assert not pipeline.database_exists(env, name)
        assert pipeline.database_exists(env, running), "a running restore's is kept"
    finally:
        claim.close()
    assert os.listdir(_markers(tmp_path)) == [running]
    assert pipeline.drop_abandoned_stagings(env, marker_dir=_markers(tmp_path)) == [
        running]  # its process is gone
    assert not os.listdir(_markers(tmp_path))
    conn = pipeline._connect(env, target)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT count(*) FROM t")
            assert cr.fetchone()[0] == 300000
    finally:
        conn.close()


# --- planted objects: nothing real is lost -----------------------------------------
def test_database_named_like_a_staging_one_survives_the_cleanup(pg, tmp_path):
    """Only the staging databases this server recorded (a marker under its data
    dir) are dropped as abandoned; a database merely named like one, on the same
    PostgreSQL server, is not."""
    env, _tools, make, names = pg
    lookalike = make("CREATE TABLE precious (v text); INSERT INTO precious VALUES ('keep')")
    renamed = lookalike + pipeline.STAGING_MARK + "0badc0de"
    pipeline._rename_database(env, lookalike, renamed)
    names.append(renamed)
    markers, root = _markers(tmp_path), tmp_path / "filestore"
    # a restore whose process was killed: staging created with its marker, lock gone
    abandoned = "sb_lib_target" + pipeline.STAGING_MARK + secrets.token_hex(4)
    names.append(abandoned)
    pipeline.begin_staging(env, markers, abandoned).close()
    (root / abandoned).mkdir(parents=True)
    (root / renamed).mkdir(parents=True)
    assert pipeline.database_exists(env, abandoned)
    assert os.listdir(markers) == [abandoned]
    # a marker that does not name a staging database is no reason to drop anything
    (tmp_path / "stagings" / lookalike).write_text("")

    assert pipeline.drop_abandoned_stagings(env, str(root), markers) == [abandoned]
    assert not pipeline.database_exists(env, abandoned)
    assert not (root / abandoned).exists()
    assert sorted(os.listdir(markers)) == [lookalike]
    assert pipeline.database_exists(env, renamed), "not recorded by this server: kept"
    assert (root / renamed).exists()
    conn = pipeline._connect(env, renamed)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT v FROM precious")
            assert cr.fetchall() == [("keep",)]
    finally:
        conn.close()
    # nor by the cleanup a restore runs first
    assert pipeline.drop_abandoned_stagings(env, str(root), markers) == []
    assert pipeline.database_exists(env, renamed)
