"""The auditor's verifier: checks a database's audit chain, or an export
of it, against the checkpoints published outside it and the public key,
without Odoo and without trusting anything the database says about itself
(its checkpoint table, its chain state, its stored digests). Plain Python;
PostgreSQL recomputes the digests from the rows.

    python3 addons/audit_trail/lib/verify.py --dsn "host=... dbname=... user=..." \\
        --s3-bucket BUCKET --s3-prefix PREFIX/audit-checkpoints/DATABASE-UUID/ \\
        [--s3-endpoint URL] --public-key audit-public.pem

The published checkpoints come from the S3 bucket they were published to
(credentials from the usual AWS variables, read-only ones are enough), or
from a file with --checkpoints (JSON Lines: what the HTTPS endpoint received,
or the Export of Signed Checkpoints; a public key line in it is ignored: the
key is the one you were given). --export FILE checks an export (the final
export written before an uninstall) instead of a live database. Exit status
0 when everything holds, 1 with the problems listed otherwise.
"""
import argparse
import json
import os
import sys

try:
    from . import chain, digests, proofs, publish
except ImportError:  # run as a script: this folder
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import chain
    import digests
    import proofs
    import publish

# the digests as the module seals them, recomputed by PostgreSQL from the rows
CONTENT_DIGEST = digests.content("e")
EVENT_DIGEST = digests.event("e")
LEGACY_DIGEST = digests.legacy("e")
BATCH = 20000


def load_published(lines):
    """The checkpoint records of a published file, oldest first."""
    records = [json.loads(line) for line in lines if line.strip()]
    records = [r for r in records if r.get("type") not in ("public_key", "event")]
    return sorted(records, key=lambda r: (r.get("number") is not None, r.get("number") or 0,
                                          r["sequence"]))


def verify_database(cr, published, public_pem, floors=None):
    """Problems found (a list of strings; empty: the chain holds). `cr`: a
    DB-API cursor on the database; `published`: checkpoint records;
    `floors`: {category: shortest retention in days} of the server (the
    security guide's by default)."""
    floors = floors or dict(proofs.SEED_FLOOR_DAYS)
    problems = [f"checkpoint {label}: {reason}"
                for label, reason in chain.checkpoint_problems(published, public_pem)]
    if not published:
        problems.append("no published checkpoint: nothing vouches for the chain")
    # the sequence from which digests are two-level, as the checkpoints sign it
    numbered = [r for r in published if r.get("number")]
    v2_from = numbered[0].get("v2_from") or 0 if numbered else 0
    # every event row, in sequence order: links, hashes and digests
    cr.execute("SELECT min(sequence) FROM audit_event WHERE sequence IS NOT NULL")
    first = cr.fetchone()[0]
    held = {}
    wanted = {r["sequence"]: r for r in published}
    previous = None  # (sequence, hash)
    after = (first or 1) - 1
    while True:
        cr.execute(f"""
            SELECT e.sequence, e.prev_hash, e.digest, e.hash, e.redacted,
                   e.content_digest IS NULL,
                   CASE WHEN e.content_digest IS NULL THEN {LEGACY_DIGEST}
                        ELSE {EVENT_DIGEST} END,
                   CASE WHEN e.content_digest IS NULL OR coalesce(e.redacted, false) THEN NULL
                        ELSE {CONTENT_DIGEST} END, e.content_digest,
                   {proofs.REDACTED_WITH_CONTENT}
              FROM audit_event e
             WHERE e.sequence > %s ORDER BY e.sequence LIMIT %s""", [after, BATCH])  # noqa: S608
        rows = cr.fetchall()
        if not rows:
            break
        for (seq, prev_hash, digest, hash_, redacted, legacy, digest_now, content_now,
             content, redacted_with_content) in rows:
            if previous is None:
                first_prev_hash = prev_hash
            if previous is not None:
                if seq != previous[0] + 1:
                    problems.append(f"events {previous[0] + 1} to {seq - 1}: missing")
                elif prev_hash != previous[1]:
                    problems.append(f"event {seq}: not linked to the one before")
            if hash_ != chain.link(prev_hash, digest):
                problems.append(f"event {seq}: its hash does not match")
            if legacy and seq >= v2_from:
                problems.append(f"event {seq}: its content digest is gone")
            elif not (legacy and redacted) and digest != digest_now:
                problems.append(f"event {seq}: its content does not match its digest")
            if content_now is not None and content != content_now:
                problems.append(f"event {seq}: its content does not match its digest")
            if redacted_with_content:
                problems.append(f"event {seq}: redacted, yet it holds content nothing vouches for")
            if seq in wanted:
                held[seq] = hash_
            previous = (seq, hash_)
        after = rows[-1][0]
    problems += retention_problems(cr, published, floors, v2_from, first,
                                   first_prev_hash if previous else None, public_pem)
    for record in published:
        if first is not None and record["sequence"] < first:
            continue  # before the retained events: their purge is checked above
        if held.get(record["sequence"]) != record["hash"]:
            problems.append(f"checkpoint {record.get('number') or record['sequence']}: the chain "
                            f"no longer holds its hash at sequence {record['sequence']}")
    if previous and published and previous[0] < max(r["sequence"] for r in published):
        problems.append(f"events after {previous[0]}: missing (a published checkpoint is later)")
    return problems


def retention_problems(cr, published, floors, v2_from, first, first_prev_hash,
                       public_pem=None):
    """Redactions and the purge, checked as the module checks them (lib/proofs.py)."""
    problems = []
    def trusted(action):
        cr.execute(proofs.RECORDS_SQL, {"action": action})
        return proofs.trusted_records(cr.fetchall(), public_pem)

    cr.execute(proofs.undue_redaction_sql(floors), {
        "v2_from": v2_from, "redact": proofs.REDACT_ACTION,
        "trusted": trusted(proofs.REDACT_ACTION), "policy": proofs.POLICY_ACTION,
        "policies": trusted(proofs.POLICY_ACTION)})
    undue = cr.fetchone()[0]
    if undue is not None:
        problems.append(f"event {undue}: redacted, and no redaction record shows it was due")
    if first is None or first <= 1:
        return problems
    # the events before the first retained one are gone: a sealed purge
    # record must name the anchor, and the purge must have been due
    cr.execute("""
        SELECT e.event_time FROM audit_event e
         WHERE e.action = %s AND e.sequence > %s AND NOT coalesce(e.redacted, false)
           AND e.sequence = ANY(%s::bigint[])
           AND e.details::jsonb ->> 'anchor_sequence' = %s
           AND e.details::jsonb ->> 'anchor_hash' = %s
         ORDER BY e.sequence LIMIT 1""", [proofs.PURGE_ACTION, first - 1,
                                          trusted(proofs.PURGE_ACTION), str(first - 1),
                                          first_prev_hash])
    row = cr.fetchone()
    if not row:
        problems.append(f"events before {first}: gone, and no purge record names them")
        return problems
    problem = proofs.purge_problem(first - 1, row[0],
                                   [(r["sequence"], r["signed_at"]) for r in published],
                                   min(floors.values()))
    if problem:
        problems.append(problem)
    for record in published:
        if record["sequence"] == first - 1 and record["hash"] != first_prev_hash:
            problems.append(f"event {first}: not linked to checkpoint "
                            f"{record.get('number') or record['sequence']} before it")
    return problems


def verify_export(lines, published, public_pem):
    """Problems of an export (JSON Lines with its events) against the published
    checkpoints: every link and hash, and each published checkpoint's hash
    at its sequence. Content digests are recomputed only on a database
    (restore the export's rows and use --dsn for that)."""
    problems = [f"checkpoint {label}: {reason}"
                for label, reason in chain.checkpoint_problems(published, public_pem)]
    if not published:
        problems.append("no published checkpoint: nothing vouches for the chain")
    events = [json.loads(line) for line in lines if line.strip()]
    events = [e for e in events if e.get("type") == "event"]
    held, previous = {}, None
    for event in sorted(events, key=lambda e: e["sequence"]):
        if event["hash"] != chain.link(event["prev_hash"], event["digest"]):
            problems.append(f"event {event['sequence']}: its hash does not match")
        if previous and event["sequence"] != previous["sequence"] + 1:
            problems.append(f"events {previous['sequence'] + 1} to {event['sequence'] - 1}: "
                            "missing")
        elif previous and event["prev_hash"] != previous["hash"]:
            problems.append(f"event {event['sequence']}: not linked to the one before")
        held[event["sequence"]] = event["hash"]
        previous = event
    first = min(held) if held else None
    for record in published:
        if first is not None and record["sequence"] < first:
            continue
        if held.get(record["sequence"]) != record["hash"]:
            problems.append(f"checkpoint {record.get('number') or record['sequence']}: the "
                            f"export does not hold its hash at sequence {record['sequence']}")
    return problems


def freshness_problems(published, max_age_hours, now=None):
    """The newest published checkpoint must be recent: a database that stops
    publishing (its target changed, its key removed) is reported."""
    from datetime import datetime, timedelta  # noqa: PLC0415
    if not published or not max_age_hours:
        return []
    newest = max(datetime.fromisoformat(r["signed_at"]) for r in published)
    now = now or datetime.utcnow()
    if now - newest > timedelta(hours=max_age_hours):
        return [f"the newest published checkpoint was signed at {newest.isoformat()}, more than "
                f"{max_age_hours} hours ago: publication stopped"]
    return []


def published_from_s3(endpoint, bucket, prefix, region=None, access_key=None, secret_key=None):
    """(records, problems) of the checkpoints published to an S3 bucket
    (credentials: the AWS default chain unless given)."""
    import boto3  # noqa: PLC0415 (only the S3 source needs it)
    client = boto3.client("s3", endpoint_url=endpoint or None, region_name=region or "us-east-1",
                          aws_access_key_id=access_key, aws_secret_access_key=secret_key)
    records, problems = publish.read_s3(client, bucket, prefix)
    return load_published(json.dumps(r) for r in records), problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dsn", help="libpq connection string of the database")
    source.add_argument("--export", help="an export of the chain (JSON Lines with its events)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--checkpoints", help="published checkpoints (JSON Lines)")
    where.add_argument("--s3-bucket", help="the bucket the checkpoints are published to")
    parser.add_argument("--s3-prefix", default="", help="their folder: "
                        "<profile prefix>/audit-checkpoints/<database uuid>/")
    parser.add_argument("--s3-endpoint", help="an S3-compatible endpoint (blank: AWS)")
    parser.add_argument("--s3-region")
    parser.add_argument("--public-key", required=True, help="the signing key's public PEM")
    parser.add_argument("--retention-floor-days", type=int,
                        help="the server's audit_retention_floor_days, if its odoo.conf sets one")
    parser.add_argument("--max-age-hours", type=float, default=48,
                        help="report a newest published checkpoint older than this (0: never)")
    args = parser.parse_args(argv)

    problems = []
    if args.s3_bucket:
        published, problems = published_from_s3(args.s3_endpoint, args.s3_bucket,
                                                 args.s3_prefix, args.s3_region)
    else:
        with open(args.checkpoints, encoding="utf-8") as fh:
            published = load_published(fh)
    with open(args.public_key, encoding="utf-8") as fh:
        public_pem = fh.read()
    if args.export:
        with open(args.export, encoding="utf-8") as fh:
            problems += verify_export(fh, published, public_pem)
    else:
        import psycopg2  # noqa: PLC0415 (only a database source needs it)
        conn = psycopg2.connect(args.dsn)
        try:
            conn.set_session(readonly=True)
            with conn.cursor() as cr:
                problems += verify_database(cr, published, public_pem,
                                            proofs.floors(args.retention_floor_days))
        finally:
            conn.close()
        problems += freshness_problems(published, args.max_age_hours)
    for problem in problems:
        print(problem)
    print("the audit chain holds" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
