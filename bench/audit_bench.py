"""audit_trail benchmarks, run inside an Odoo registry on the bench database:
python audit_bench.py CONF DB  (with Odoo on sys.path)

Each pair is measured side by side in interleaved rounds on the same database:
auditing of res.partner switched on (an active audit.rule) and off."""
import statistics
import sys
import os
import time

import odoo
from odoo.modules.registry import Registry
from odoo.tools import config

conf, db = sys.argv[1:3]
config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
registry = Registry(db)


def env_of(cr):
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def set_audit(on):
    with registry.cursor() as cr:
        env = env_of(cr)
        Rule = env["audit.rule"].with_context(active_test=False)
        rule = Rule.search([("model", "=", "res.partner")])
        if not rule:
            rule = Rule.create({"model_id": env["ir.model"]._get_id("res.partner")})
        rule.active = on


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def single_writes(partner_id, n=200):
    """n interactive writes: one record, one field, one transaction each."""
    def run():
        for i in range(n):
            with registry.cursor() as cr:
                env_of(cr)["res.partner"].browse(partner_id).write({"comment": f"edit {i}"})
    return timed(run) / n


def bulk_create(n=10000):
    def run():
        with registry.cursor() as cr:
            env_of(cr)["res.partner"].create([{"name": f"bench {i}"} for i in range(n)])
    return timed(run)


def bulk_write(n=10000):
    with registry.cursor() as cr:
        ids = env_of(cr)["res.partner"].search([("name", "like", "bench %")], limit=n).ids

    def run():
        with registry.cursor() as cr:
            env_of(cr)["res.partner"].browse(ids).write({"comment": f"bulk {time.time()}"})
    return timed(run)


def cleanup():
    """Leave the bench database as it was: without the partners and the (never
    sealed: no cron runs here) events of the runs, which would otherwise pile
    up and slow down the next runs' sealing and verification."""
    set_audit(False)
    with registry.cursor() as cr:
        cr.execute("DELETE FROM res_partner WHERE name LIKE 'bench %%'")
        cr.execute("DELETE FROM audit_event WHERE sequence IS NULL AND model = 'res.partner'")


def ratio_table(title, measure, rounds):
    on, off = [], []
    for _ in range(rounds):
        set_audit(False)
        off.append(measure())
        set_audit(True)
        on.append(measure())
    m_on, m_off = statistics.median(on), statistics.median(off)
    print(f"  {title:<38} off {m_off * 1000:9.2f} ms   on {m_on * 1000:9.2f} ms   "
          f"ratio {m_on / m_off:.3f}")
    return m_on / m_off


INSERT_EVENTS = """
            INSERT INTO audit_event (event_time, category, action, outcome, uid, login, ip,
                                     user_agent, model, res_id, res_name, changes, request_path)
            SELECT now() at time zone 'utc' - make_interval(secs => g), 'resource_change', 'write',
                   'success', 2, 'admin', '192.0.2.' || (g %% 250), 'Mozilla/5.0 (bench)',
                   'res.partner', g, 'Partner ' || g,
                   '{"comment": ["before ' || g || '", "after ' || g || '"]}', '/web/dataset/call_kw'
              FROM generate_series(1, %s) g
"""


def verification_rate(n=2_000_000, daily=10_000):
    """Seal n events, time a full verification of the chain, then a day's
    incremental check (`daily` new events after a verified signed checkpoint)
    and the signing of a checkpoint."""
    import base64
    os.environ.setdefault("AUDIT_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
    with registry.cursor() as cr:
        env = env_of(cr)
        cr.execute(INSERT_EVENTS, [n])
        t0 = time.perf_counter()
        while env["audit.event"]._seal(limit=20000):
            pass
        seal_time = time.perf_counter() - t0
        cr.execute("SELECT count(*) FROM audit_event WHERE sequence IS NOT NULL")
        total = cr.fetchone()[0]
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            result = env["audit.event"]._verify()
            times.append(time.perf_counter() - t0)
            assert result is None, result
        Event, Checkpoint = env["audit.event"], env["audit.checkpoint"]
        t0 = time.perf_counter()
        Checkpoint._checkpoint_head()
        sign_time = time.perf_counter() - t0
        Event._verified(Event._chain_state("last_sequence"))
        cr.execute(INSERT_EVENTS, [daily])
        while Event._seal(limit=20000):
            pass
        incremental = []
        for _ in range(3):
            t0 = time.perf_counter()
            result = Event._verify_incremental()
            incremental.append(time.perf_counter() - t0)
            assert result is None, result
        cr.rollback()  # leave the bench database as it was
    best = min(times)
    print(f"  sealing        {n} events in {seal_time:6.2f} s  ({n / seal_time:,.0f} events/s)")
    print(f"  verification   {total} events in {best:6.3f} s  ({total / best:,.0f} events/s,"
          f" target >= 300,000)")
    print(f"  daily check    {daily} new events over {total}: {min(incremental):6.3f} s"
          f" (target < 1 s)")
    print(f"  checkpoint     signed in {sign_time * 1000:6.1f} ms")


def publication_cost(n=30):
    """Sign and publish n checkpoints to an Object Lock bucket on the local
    SeaweedFS (the same store a profile would use): the time one publication
    adds, median, against signing alone."""
    import base64
    import secrets

    import boto3
    from botocore.config import Config
    os.environ.setdefault("AUDIT_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
    s3 = {k: os.environ[f"SUITE_S3_{k}"] for k in ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY")}
    bucket = "bench-cp-" + secrets.token_hex(4)
    boto3.client("s3", endpoint_url=s3["ENDPOINT"], region_name="us-east-1",
                 aws_access_key_id=s3["ACCESS_KEY"], aws_secret_access_key=s3["SECRET_KEY"],
                 config=Config(s3={"addressing_style": "path"})).create_bucket(
        Bucket=bucket, ObjectLockEnabledForBucket=True)
    with registry.cursor() as cr:
        env = env_of(cr)
        profile = env["selfhost.backup.profile"].create({
            "name": bucket, "endpoint_url": s3["ENDPOINT"], "bucket": bucket, "prefix": "bench",
            "addressing_style": "path", "credentials_source": "stored", "daily": False})
        profile.write({"new_access_key_id": s3["ACCESS_KEY"],
                       "new_secret_access_key": s3["SECRET_KEY"]})
        env["ir.config_parameter"].set_param("audit_trail.publish_profile_id", str(profile.id))
        Event, Checkpoint = env["audit.event"], env["audit.checkpoint"]
        Checkpoint._publish_pending()  # what the bench database already had
        signing, publishing = [], []
        for i in range(n):
            Event.log("security_event", "bench.publish", details={"i": i})
            Event._seal()
            t0 = time.perf_counter()
            Checkpoint._checkpoint_head()
            t1 = time.perf_counter()
            assert Checkpoint._publish_pending() == 1
            signing.append(t1 - t0)
            publishing.append(time.perf_counter() - t1)
        # a backlog (the store was down): one client, one PUT each
        for i in range(n):
            Event.log("security_event", "bench.publish", details={"i": i})
            Event._seal()
            Checkpoint._checkpoint_head()
        t0 = time.perf_counter()
        assert Checkpoint._publish_pending() == n
        backlog = (time.perf_counter() - t0) / n
        cr.rollback()
    sign, pub = statistics.median(signing), statistics.median(publishing)
    print(f"  publication    {pub * 1000:6.1f} ms per checkpoint to S3 with Object Lock, as the "
          f"hourly job does it (S3 client set up each time; signing {sign * 1000:.1f} ms);"
          f" {backlog * 1000:.1f} ms each for a backlog of {n}")


def main():
    with registry.cursor() as cr:
        partner = env_of(cr)["res.partner"].create({"name": "bench single"})
        partner_id = partner.id
    print("audit_trail: auditing of res.partner on vs off, interleaved, medians")
    try:
        single_writes(partner_id, 20)  # warm up
        ratio_table("bare ORM write, own transaction", lambda: single_writes(partner_id), 5)
        created = ratio_table("bulk create of 10,000 records", bulk_create, 3)
        written = ratio_table("bulk write of 10,000 records", bulk_write, 3)
        print(f"  bulk target <= 1.3: create {created:.3f}, write {written:.3f}")
    finally:
        cleanup()
    verification_rate()
    publication_cost()


if __name__ == "__main__":
    main()
