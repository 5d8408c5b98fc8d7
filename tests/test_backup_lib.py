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
        sets[bid] = {"keys": [], "manifest": complete, "authentic": complete}
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
    sets = retention.group_backups(base, ((k, 1) for k in keys))
    assert sets == {bid: {"keys": [f"{base}{bid}/manifest.json", f"{base}{bid}/db.dump.zst.aes"],
                          "sizes": {f"{base}{bid}/manifest.json": 1,
                                    f"{base}{bid}/db.dump.zst.aes": 1}, "manifest": True}}


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
    manifest = pipeline.backup(client, bucket, "lib-plain", src, env, key=KEY, encrypt=False,
                               pg_dump=tools["pg_dump"], include_filestore=False)
    assert pipeline.verify(client, bucket, manifest["manifest_key"], KEY)["objects"] == 1
    key = manifest["objects"][0]["key"]
    data = bytearray(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    data[len(data) // 2] ^= 0x01
    client.put_object(Bucket=bucket, Key=key, Body=bytes(data))
    with pytest.raises(pipeline.BackupError, match="db.dump.zst: .*(SHA-256|decompressed)"):
        pipeline.verify(client, bucket, manifest["manifest_key"], KEY)


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


def _sign(body, key):
    """What only a holder of `key` can do: authenticate a manifest."""
    import json  # noqa: PLC0415
    body = {k: v for k, v in body.items() if k != "mac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return dict(body, mac=crypto.manifest_mac(key, canonical))


@pytest.mark.parametrize("forgery", ["unsigned", "attacker_key", "garbage_mac"])
def test_backup_replaced_by_an_unencrypted_one_is_refused(s3, pg, tmp_path, forgery):
    """Downgrade: someone with write access to the bucket replaces an encrypted
    backup by an unencrypted one of their own, consistent in every hash, its
    manifest unsigned, signed with a key of theirs, or with a made-up MAC."""
    client, bucket = s3
    env, tools, make, names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('genuine')")
    genuine = pipeline.backup(client, bucket, "lib-downgrade", src, env, key=KEY,
                              pg_dump=tools["pg_dump"], include_filestore=False)
    evil = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('backdoor')")
    theirs = secrets.token_bytes(32)
    forged = pipeline.backup(client, bucket, "lib-downgrade-evil", evil, env, key=theirs,
                             encrypt=False, pg_dump=tools["pg_dump"], include_filestore=False)
    folder = genuine["manifest_key"].rsplit("/", 1)[0] + "/"
    body = _manifest(client, bucket, forged["manifest_key"])
    body.update(backup_id=genuine["backup_id"], database=src, prefix="lib-downgrade",
                key_fingerprint=crypto.key_fingerprint(KEY))
    for obj in body["objects"]:
        new_key = folder + obj["key"].rsplit("/", 1)[1]
        client.copy_object(Bucket=bucket, Key=new_key,
                           CopySource={"Bucket": bucket, "Key": obj["key"]})
        obj["key"] = new_key
    assert body["encryption"] is None
    body = {"unsigned": dict(body, mac=None), "attacker_key": _sign(body, theirs),
            "garbage_mac": dict(body, mac="0" * 64)}[forgery]
    _put_manifest(client, bucket, genuine["manifest_key"], body)
    pattern = "is not authenticated" if forgery == "unsigned" else "failed authentication"
    with pytest.raises(pipeline.BackupError, match=pattern):
        pipeline.verify(client, bucket, genuine["manifest_key"], KEY)
    target = "sb_lib_downgrade_" + secrets.token_hex(3)
    names.append(target)
    with pytest.raises(pipeline.BackupError, match=pattern):
        pipeline.restore(client, bucket, genuine["manifest_key"], KEY, target, env,
                         marker_dir=_markers(tmp_path), pg_restore=tools["pg_restore"],
                         filestore_root=str(tmp_path))
    assert not pipeline.database_exists(env, target)


def test_every_operation_needs_the_key(s3, pg, tmp_path):
    """No key, no backup, verify, restore, listing or retention: an unencrypted
    backup is authenticated all the same."""
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t (v text)")
    prefix = "lib-nokey-" + secrets.token_hex(4)
    for key in (None, b"", b"short"):
        with pytest.raises(pipeline.BackupError, match="no backup key"):
            pipeline.backup(client, bucket, prefix, src, env, key=key, encrypt=False,
                            pg_dump=tools["pg_dump"], include_filestore=False)
    assert not list(s3lib.list_keys(client, bucket, prefix + "/"))
    manifest = pipeline.backup(client, bucket, prefix, src, env, key=KEY, encrypt=False,
                               pg_dump=tools["pg_dump"], include_filestore=False)
    body = _manifest(client, bucket, manifest["manifest_key"])
    assert body["encryption"] is None and body["mac"]
    assert body["key_fingerprint"] == crypto.key_fingerprint(KEY)
    with pytest.raises(pipeline.BackupError, match="no backup key"):
        pipeline.verify(client, bucket, manifest["manifest_key"], None)
    with pytest.raises(pipeline.BackupError, match="no backup key"):
        pipeline.restore(client, bucket, manifest["manifest_key"], None, "sb_lib_nokey", env,
                         marker_dir=_markers(tmp_path), pg_restore=tools["pg_restore"])
    with pytest.raises(pipeline.BackupError, match="no backup key"):
        pipeline.list_backups(client, bucket, prefix, src, None)
    with pytest.raises(pipeline.BackupError, match="no backup key"):
        pipeline.apply_retention(client, bucket, prefix, src, 1, 0, key=None)
    with pytest.raises(pipeline.BackupError, match="authenticated with another key"):
        pipeline.verify(client, bucket, manifest["manifest_key"], secrets.token_bytes(32))
    assert pipeline.verify(client, bucket, manifest["manifest_key"], KEY)["objects"] == 1


@pytest.mark.parametrize("objects", ["none", "two_databases", "missing_filestore", "foreign"])
def test_manifest_must_list_exactly_the_objects_of_its_backup(s3, pg, tmp_path, objects):
    """Even authenticated (written by a holder of the key), a manifest listing
    no database object would restore an empty database without an error."""
    client, bucket = s3
    env, tools, make, names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('x')")
    store = tmp_path / "fs"
    (store / "ab").mkdir(parents=True)
    (store / "ab" / "file").write_bytes(b"data")
    manifest = pipeline.backup(client, bucket, "lib-objects", src, env, key=KEY, encrypt=False,
                               pg_dump=tools["pg_dump"], filestore=str(store))
    body = _manifest(client, bucket, manifest["manifest_key"])
    db_obj, fs_obj = body["objects"]
    body["objects"] = {"none": [], "two_databases": [db_obj, db_obj],
                       "missing_filestore": [db_obj],
                       "foreign": [dict(db_obj, key="elsewhere/db.dump.zst"), fs_obj]}[objects]
    _put_manifest(client, bucket, manifest["manifest_key"], _sign(body, KEY))
    pattern = {"none": "exactly one database object", "two_databases": "exactly one database",
               "missing_filestore": "lists no filestore object",
               "foreign": "lists an object outside its backup"}[objects]
    with pytest.raises(pipeline.BackupError, match=pattern):
        pipeline.verify(client, bucket, manifest["manifest_key"], KEY)
    target = "sb_lib_objects_" + secrets.token_hex(3)
    names.append(target)
    with pytest.raises(pipeline.BackupError, match=pattern):
        pipeline.restore(client, bucket, manifest["manifest_key"], KEY, target, env,
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
    listed = pipeline.list_backups(client, bucket, prefix, src, KEY)
    assert [b["backup_id"] for b in listed if b["complete"]] == [manifest["backup_id"]]
    assert {b["backup_id"]: b["state"] for b in listed} == {
        manifest["backup_id"]: "good", soon: "rejected", "20991231T000000Z-deadbeef": "rejected"}
    # nor under another profile's prefix (same database, same key)
    other = "lib-replay-other-" + secrets.token_hex(4)
    moved = f"{pipeline.base_prefix(other, src)}{manifest['backup_id']}/"
    for obj_key in [o["key"] for o in manifest["objects"]] + [manifest["manifest_key"]]:
        client.copy_object(Bucket=bucket, Key=moved + obj_key.rsplit("/", 1)[1],
                           CopySource={"Bucket": bucket, "Key": obj_key})
    with pytest.raises(pipeline.BackupError, match="stored elsewhere"):
        pipeline.verify(client, bucket, moved + "manifest.json", KEY)
    assert [b["state"] for b in pipeline.list_backups(client, bucket, other, src, KEY)] == [
        "rejected"]


def test_future_dated_backup_is_never_the_newest_kept():
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    sets = {bid: {"keys": [], "manifest": True, "authentic": True} for bid in (
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


def _backup_at(client, bucket, prefix, src, env, tools, days_ago, **kw):
    when = datetime.now(timezone.utc) - timedelta(days=days_ago)
    return pipeline.backup(client, bucket, prefix, src, env, key=KEY, pg_dump=tools["pg_dump"],
                           include_filestore=False, now=when, **kw)


def _set_ids(client, bucket, base):
    return sorted({k[len(base):].split("/")[0] for k, _s, _m in s3lib.list_keys(
        client, bucket, base)})


@pytest.mark.parametrize("encrypt", [True, False])
def test_planted_manifests_never_get_a_real_backup_deleted(s3, pg, encrypt):
    """Someone who can put objects in the bucket, but not delete them, plants
    manifests for retention to count: unsigned and dated up to an hour ahead,
    copied from a real backup under newer names, with a made-up MAC, or written
    over the manifest of a real backup. None is counted, none of the real
    backups is deleted, none of the planted sets either, and each is reported."""
    import json  # noqa: PLC0415
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('x')")
    prefix = "lib-plant-" + secrets.token_hex(4)
    base = pipeline.base_prefix(prefix, src)
    keep = 3
    real = [_backup_at(client, bucket, prefix, src, env, tools, days, encrypt=encrypt)
            for days in (3, 2, 1)]
    real_keys = sorted(k for k, _s, _m in s3lib.list_keys(client, bucket, base))
    now = datetime.now(timezone.utc)
    newest = real[-1]
    template = _manifest(client, bucket, newest["manifest_key"])
    planted = {}

    def plant(bid, body, with_objects=True):
        if with_objects:
            for obj in newest["objects"]:
                name = obj["key"].rsplit("/", 1)[1]
                client.copy_object(Bucket=bucket, Key=f"{base}{bid}/{name}",
                                   CopySource={"Bucket": bucket, "Key": obj["key"]})
        client.put_object(Bucket=bucket, Key=f"{base}{bid}/manifest.json",
                          Body=body if isinstance(body, bytes) else json.dumps(body).encode())
        planted[bid] = body

    def moved(bid, **changes):
        body = dict(template, backup_id=bid, **changes)
        body["objects"] = [dict(o, key=f"{base}{bid}/{o['key'].rsplit('/', 1)[1]}")
                           for o in template["objects"]]
        return body

    for i in range(keep):  # unsigned, dated up to an hour ahead
        bid = retention.backup_id_for(now + timedelta(minutes=10 * (i + 1)), f"a{i:07x}")
        plant(bid, moved(bid, mac=None))
    for i in range(keep):  # a real, signed manifest copied under newer names
        plant(retention.backup_id_for(now - timedelta(minutes=i + 1), f"b{i:07x}"), template)
    for i in range(keep):  # rewritten to fit the new name, with a made-up MAC
        bid = retention.backup_id_for(now - timedelta(minutes=20 + i), f"c{i:07x}")
        plant(bid, moved(bid, mac="f" * 64))
    plant(retention.backup_id_for(now - timedelta(minutes=40), "d0000000"), b"{not json",
          with_objects=False)
    # the oldest real backup: its manifest overwritten (it must not be deleted as "incomplete")
    client.put_object(Bucket=bucket, Key=real[0]["manifest_key"], Body=b"garbage")

    current = _backup_at(client, bucket, prefix, src, env, tools, 0, encrypt=encrypt)
    result = pipeline.apply_retention(client, bucket, prefix, src, keep, 0, key=KEY,
                                      current=current["backup_id"])
    assert result["deleted"] == []
    remaining = {k for k, _s, _m in s3lib.list_keys(client, bucket, base)}
    assert set(real_keys) <= remaining, "every real backup is still there"
    reasons = dict(result["rejected"])
    assert set(reasons) == set(planted) | {real[0]["backup_id"]}
    first = {kind: next(b for b in planted if b.endswith(f"{kind}0000000")) for kind in "abc"}
    assert "is not authenticated" in reasons[first["a"]]
    assert "stored elsewhere" in reasons[first["b"]]
    assert "failed authentication" in reasons[first["c"]]
    assert "not a backup manifest" in reasons[real[0]["backup_id"]]
    assert set(_set_ids(client, bucket, base)) == set(planted) | {
        b["backup_id"] for b in real + [current]}, "planted sets are not deleted either"

    # the real backups still count: one more run keeps the `keep` newest real ones
    later = _backup_at(client, bucket, prefix, src, env, tools, 0, encrypt=encrypt)
    result = pipeline.apply_retention(client, bucket, prefix, src, keep, 0, key=KEY,
                                      current=later["backup_id"])
    assert result["deleted"] == [real[1]["backup_id"]]
    assert real[0]["backup_id"] in dict(result["rejected"]), "never deleted while rejected"


def test_real_backup_whose_object_was_replaced_is_neither_counted_nor_deleted(s3, pg):
    """Its manifest authenticates, but an object it lists is not of the recorded
    size any more: not counted (it may not restore), not deleted (it may be the
    only copy of something), reported."""
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('x')")
    prefix = "lib-objsize-" + secrets.token_hex(4)
    base = pipeline.base_prefix(prefix, src)
    old, mid = (_backup_at(client, bucket, prefix, src, env, tools, days) for days in (3, 2))
    client.put_object(Bucket=bucket, Key=old["objects"][0]["key"], Body=b"tampered")
    current = _backup_at(client, bucket, prefix, src, env, tools, 0)
    result = pipeline.apply_retention(client, bucket, prefix, src, 1, 0, key=KEY,
                                      current=current["backup_id"])
    assert result["deleted"] == [mid["backup_id"]]
    assert [bid for bid, _r in result["rejected"]] == [old["backup_id"]]
    assert "not of the size its manifest records" in result["rejected"][0][1]
    assert old["backup_id"] in _set_ids(client, bucket, base)


def _recording_pg_restore(tmp_path, real):
    """A pg_restore that records every byte it is given, then runs the real one."""
    wrapper, received = tmp_path / "pg_restore_recording", tmp_path / "received"
    wrapper.write_text(f'#!/bin/sh\ntee "{received}" | "{real}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper), received


@pytest.mark.parametrize("manifest_rewritten", [True, False])
def test_swapped_dump_in_an_unencrypted_backup_is_refused(s3, pg, tmp_path, manifest_rewritten):
    """The dump of an unencrypted backup replaced by one of the attacker's (whose
    SQL would run as the database role), with the manifest rewritten to match it
    (without the key) or left as it was: refused at verify, and at restore before
    pg_restore sees a single byte of it."""
    import hashlib  # noqa: PLC0415
    import json  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    client, bucket = s3
    env, tools, make, names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('genuine')")
    evil = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('backdoor')")
    prefix = "lib-swap-" + secrets.token_hex(4)
    genuine = pipeline.backup(client, bucket, prefix, src, env, key=KEY, encrypt=False,
                              pg_dump=tools["pg_dump"], include_filestore=False)
    theirs = pipeline.backup(client, bucket, prefix + "-evil", evil, env,
                             key=secrets.token_bytes(32), encrypt=False,
                             pg_dump=tools["pg_dump"], include_filestore=False)
    dump_key = genuine["objects"][0]["key"]
    data = client.get_object(Bucket=bucket, Key=theirs["objects"][0]["key"])["Body"].read()
    client.put_object(Bucket=bucket, Key=dump_key, Body=data)
    if manifest_rewritten:
        body = _manifest(client, bucket, genuine["manifest_key"])
        body["objects"][0].update(size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                  plain_size=theirs["objects"][0]["plain_size"],
                                  plain_sha256=theirs["objects"][0]["plain_sha256"])
        client.put_object(Bucket=bucket, Key=genuine["manifest_key"],
                          Body=json.dumps(body).encode())
        pattern = "failed authentication"
    else:
        pattern = r"db\.dump\.zst: SHA-256 of the stored object does not match"
    with pytest.raises(pipeline.BackupError, match=pattern):
        pipeline.verify(client, bucket, genuine["manifest_key"], KEY)
    target = "sb_lib_swap_" + secrets.token_hex(3)
    names.append(target)
    real = shutil.which(tools["pg_restore"]) or tools["pg_restore"]
    recording, received = _recording_pg_restore(tmp_path, real)
    with pytest.raises(pipeline.BackupError, match=pattern):
        pipeline.restore(client, bucket, genuine["manifest_key"], KEY, target, env,
                         marker_dir=_markers(tmp_path), pg_restore=recording,
                         filestore_root=str(tmp_path / "filestore"), spool_dir=str(tmp_path))
    assert not pipeline.database_exists(env, target)
    assert not received.exists() or received.stat().st_size == 0, \
        "pg_restore was given the attacker's dump"
    assert not os.path.exists(_markers(tmp_path)) or not os.listdir(_markers(tmp_path))


def test_what_a_planted_manifest_says_never_reaches_the_alert(s3, pg):
    """The reasons retention reports (in alerts and e-mails to the Owner and
    Admins) repeat nothing of an unauthenticated manifest."""
    import json  # noqa: PLC0415
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t (v text)")
    prefix = "lib-plant-text-" + secrets.token_hex(4)
    base = pipeline.base_prefix(prefix, src)
    real = _backup_at(client, bucket, prefix, src, env, tools, 1)
    template = _manifest(client, bucket, real["manifest_key"])
    lure = "URGENT call +1-555-0100 http://evil.example"
    now = datetime.now(timezone.utc)
    for i, changes in enumerate(({"key_fingerprint": lure, "encryption": None},
                                 {"version": lure}, {"encryption": {"key_fingerprint": lure}},
                                 {"objects": [{"key": lure, "role": "database"}]})):
        bid = retention.backup_id_for(now - timedelta(minutes=i + 1), f"e{i:07x}")
        body = dict(template, backup_id=bid, **changes)
        client.put_object(Bucket=bucket, Key=f"{base}{bid}/manifest.json",
                          Body=json.dumps(body).encode())
    result = pipeline.apply_retention(client, bucket, prefix, src, 1, 0, key=KEY,
                                      current=real["backup_id"])
    assert len(result["rejected"]) == 4
    assert "evil" not in repr(result)


def test_encrypted_backups_of_the_previous_version_still_count_and_restore(s3, pg, tmp_path):
    """Their manifest (signed, without the prefix and the top-level key
    fingerprint that manifests record now) authenticates as before."""
    client, bucket = s3
    env, tools, make, names = pg
    src = make("CREATE TABLE t (v text); INSERT INTO t VALUES ('old')")
    prefix = "lib-previous-" + secrets.token_hex(4)
    manifest = _backup_at(client, bucket, prefix, src, env, tools, 2)
    body = _manifest(client, bucket, manifest["manifest_key"])
    for name in ("prefix", "key_fingerprint"):
        del body[name]
    _put_manifest(client, bucket, manifest["manifest_key"], _sign(body, KEY))
    assert pipeline.verify(client, bucket, manifest["manifest_key"], KEY)["objects"] == 1
    assert [b["state"] for b in pipeline.list_backups(client, bucket, prefix, src, KEY)] == [
        "good"]
    target = "sb_lib_previous_" + secrets.token_hex(3)
    names.append(target)
    pipeline.restore(client, bucket, manifest["manifest_key"], KEY, target, env,
                     marker_dir=_markers(tmp_path), pg_restore=tools["pg_restore"])
    current = _backup_at(client, bucket, prefix, src, env, tools, 0)
    result = pipeline.apply_retention(client, bucket, prefix, src, 1, 0, key=KEY,
                                      current=current["backup_id"])
    assert result == {"deleted": [manifest["backup_id"]], "rejected": []}


def test_retention_interrupted_halfway_leaves_nothing_it_keeps_forever(s3, pg):
    """The manifests of the doomed sets go first: a retention cut off after them
    leaves sets without a manifest, removed by the next run (not authentic
    manifests whose objects are gone, which retention would keep and report)."""
    client, bucket = s3
    env, tools, make, _names = pg
    src = make("CREATE TABLE t (v text)")
    prefix = "lib-cut-" + secrets.token_hex(4)
    base = pipeline.base_prefix(prefix, src)
    old = _backup_at(client, bucket, prefix, src, env, tools, 3)
    current = _backup_at(client, bucket, prefix, src, env, tools, 0)
    real_delete, calls = client.delete_objects, []

    def cut_off(**kwargs):
        calls.append(kwargs)
        if len(calls) > 1:
            raise ConnectionResetError("connection reset by peer")
        return real_delete(**kwargs)

    client.delete_objects = cut_off
    try:
        with pytest.raises(s3lib.S3Error):
            pipeline.apply_retention(client, bucket, prefix, src, 1, 0, key=KEY,
                                     current=current["backup_id"])
    finally:
        del client.delete_objects
    assert [o["Key"] for o in calls[0]["Delete"]["Objects"]] == [old["manifest_key"]]
    result = pipeline.apply_retention(client, bucket, prefix, src, 1, 0, key=KEY,
                                      current=current["backup_id"])
    assert result == {"deleted": [old["backup_id"]], "rejected": []}
    assert _set_ids(client, bucket, base) == [current["backup_id"]]
