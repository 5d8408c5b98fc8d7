"""selfhost_backup: the streaming backup (pg_dump -> zstd -> AES-256-GCM -> S3
multipart upload to the local SeaweedFS) against `pg_dump -Fc > /dev/null` on
the same database, and the backup process's peak RSS for a ~1 GB database and
one a quarter of its size. The databases are plain PostgreSQL databases of
random hex text, created once and reused."""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
GB = 1000 ** 3
MIB = 1024 ** 2
TARGET = {"security_backup_bench_1g": int(1.05 * GB), "security_backup_bench_q": int(0.27 * GB)}


def connect(dbname="postgres"):
    conn = psycopg2.connect(host="127.0.0.1", port=os.environ["SUITE_PG_PORT"], user="odoo",
                            password=os.environ["SUITE_PG_PASSWORD"], dbname=dbname)
    conn.autocommit = True
    return conn


def db_size(dbname):
    with connect(dbname) as conn, conn.cursor() as cr:
        cr.execute("SELECT pg_database_size(current_database())")
        return cr.fetchone()[0]


def ensure_database(dbname, target):
    """Rows of random hex text (about half of it compressible) until the
    database reaches `target` bytes on disk; reused by later runs."""
    conn = connect()
    with conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
        exists = cr.fetchone()
        if not exists:
            cr.execute(f'CREATE DATABASE "{dbname}"')
    conn.close()
    conn = connect(dbname)
    with conn.cursor() as cr:
        cr.execute("CREATE TABLE IF NOT EXISTS bench_rows (id bigint, payload text, n float8)")
        size = db_size(dbname)
        if size < target:
            print(f"  generating {dbname}: {size / GB:.2f} GB -> {target / GB:.2f} GB",
                  flush=True)
        while size < target:
            cr.execute("""
                INSERT INTO bench_rows
                SELECT g, md5(random()::text) || md5(random()::text) || md5(random()::text),
                       random()
                FROM generate_series(1, 500000) g""")
            size = db_size(dbname)
    conn.close()
    return size


def time_pg_dump(dbname, pg_dump):
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=os.environ["SUITE_PG_PORT"],
               PGUSER="odoo", PGPASSWORD=os.environ["SUITE_PG_PASSWORD"])
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        subprocess.run([pg_dump, "-Fc", "--dbname", dbname], stdout=devnull, env=env, check=True)
    return time.perf_counter() - t0


def run_backup(dbname, size):
    env = dict(os.environ, BENCH_DB_SIZE=str(size))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "backup_child.py"), dbname,
                          "bench"], env=env, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    result = json.loads(out.strip().splitlines()[-1])
    result["process_wall"] = wall
    _delete(result["keys"])
    return result


def _delete(keys):
    import boto3  # noqa: PLC0415
    client = boto3.client("s3", endpoint_url=os.environ["SUITE_S3_ENDPOINT"],
                          region_name="us-east-1",
                          aws_access_key_id=os.environ["SUITE_S3_ACCESS_KEY"],
                          aws_secret_access_key=os.environ["SUITE_S3_SECRET_KEY"])
    client.delete_objects(Bucket=os.environ["SUITE_S3_BUCKET"],
                          Delete={"Objects": [{"Key": k} for k in keys]})


def main(rounds=2):
    pg_dump = os.path.join(os.environ.get("SUITE_PG_BINDIR", ""), "pg_dump")
    sizes = {name: ensure_database(name, target) for name, target in TARGET.items()}
    print("selfhost_backup: backup (pg_dump -Fc -Z0 | zstd | AES-256-GCM | S3 multipart to "
          "SeaweedFS on 127.0.0.1) vs pg_dump -Fc > /dev/null, interleaved")
    rss = {}
    for name, size in sizes.items():
        dumps, backups, peaks = [], [], []
        for _ in range(rounds if name.endswith("1g") else 1):
            dumps.append(time_pg_dump(name, pg_dump))
            result = run_backup(name, size)
            backups.append(result["process_wall"])
            peaks.append(result["maxrss_kib"] / 1024)
        rss[name] = max(peaks)
        d, b = statistics.median(dumps), statistics.median(backups)
        print(f"  {name:<26} {size / GB:5.2f} GB on disk, dump {result['plain'] / MIB:7.0f} MiB"
              f" -> stored {result['stored'] / MIB:6.0f} MiB in {result['parts']} parts")
        print(f"    pg_dump -Fc > /dev/null {d:7.1f} s   backup {b:7.1f} s   "
              f"ratio {b / d:.3f} (target <= 1.2)   backup peak RSS {rss[name]:.0f} MiB")
    big, quarter = rss["security_backup_bench_1g"], rss["security_backup_bench_q"]
    print(f"  peak RSS 1 GB vs quarter: {big:.0f} MiB vs {quarter:.0f} MiB, ratio "
          f"{big / quarter:.2f} (target <= 200 MiB and flat)")


if __name__ == "__main__":
    main()
