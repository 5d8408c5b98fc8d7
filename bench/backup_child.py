"""One backup with selfhost_backup's real pipeline (the addon's lib), in a
process of its own so that its peak RSS can be read. Prints one JSON line.

    backup_child.py DBNAME PREFIX   (S3 and PostgreSQL from the environment)
"""
import base64
import importlib.util
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "addons" / "selfhost_backup" / "lib"
spec = importlib.util.spec_from_file_location("selfhost_backup_lib", LIB / "__init__.py",
                                              submodule_search_locations=[str(LIB)])
package = importlib.util.module_from_spec(spec)
sys.modules["selfhost_backup_lib"] = package
spec.loader.exec_module(package)
from selfhost_backup_lib import crypto, pipeline  # noqa: E402
from selfhost_backup_lib import s3 as s3lib  # noqa: E402


def main(dbname, prefix):
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=os.environ["SUITE_PG_PORT"],
               PGUSER="odoo", PGPASSWORD=os.environ["SUITE_PG_PASSWORD"])
    client = s3lib.make_client(os.environ["SUITE_S3_ENDPOINT"], None,
                               os.environ["SUITE_S3_ACCESS_KEY"],
                               os.environ["SUITE_S3_SECRET_KEY"], "path")
    key = crypto.parse_key(os.environ["BENCH_BACKUP_KEY"])
    db_size = int(os.environ["BENCH_DB_SIZE"])
    pg_dump = os.path.join(os.environ.get("SUITE_PG_BINDIR", ""), "pg_dump")
    t0 = time.perf_counter()
    manifest = pipeline.backup(client, os.environ["SUITE_S3_BUCKET"], prefix, dbname, env,
                               key=key, compression="zstd", pg_dump=pg_dump,
                               include_filestore=False, db_size=db_size)
    wall = time.perf_counter() - t0
    obj = manifest["objects"][0]
    print(json.dumps({  # noqa: T201 (the benchmark's output channel)
        "wall": wall, "stored": obj["size"], "plain": obj["plain_size"], "parts": obj["parts"],
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "manifest_key": manifest["manifest_key"], "keys": [o["key"] for o in manifest["objects"]]
        + [manifest["manifest_key"]]}))


if __name__ == "__main__":
    if not os.environ.get("BENCH_BACKUP_KEY"):
        os.environ["BENCH_BACKUP_KEY"] = base64.b64encode(os.urandom(32)).decode()
    main(sys.argv[1], sys.argv[2])
