"""The auditor's verifier: checks a database's audit chain against the
checkpoints published outside it and the public key, without Odoo and
without trusting anything the database says about itself (its checkpoint
table, its chain state, its stored digests). Plain Python; PostgreSQL
recomputes the digests from the rows.

    python3 addons/audit_trail/lib/verify.py --dsn "host=... dbname=... user=..." \\
        --checkpoints published.jsonl --public-key audit-public.pem

`published.jsonl`: the checkpoints as published (the *Export* of Signed
Checkpoints, one JSON object per line; a public key line in it is ignored:
the key is the one you were given). Exit status 0 when everything holds,
1 with the problems listed otherwise.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chain  # noqa: E402  (this folder, also when run as a script)

# The digests as the module seals them (models/audit_event.py): recomputed by
# PostgreSQL from the rows, so the JSON text is the one that was hashed.
CONTENT_DIGEST = (
    "encode(sha256(convert_to(json_build_array(e.action, e.outcome, e.uid, e.login, e.ip,"
    " e.user_agent, e.model, e.res_id, e.res_name, e.changes, e.details,"
    " e.request_path)::text, 'UTF8')), 'hex')")
EVENT_DIGEST = (
    "encode(sha256(convert_to(CASE WHEN e.cid IS NULL AND e.record_cid IS NULL"
    " THEN json_build_array(e.sequence, e.event_time, e.category, e.content_digest)"
    " ELSE json_build_array(e.sequence, e.event_time, e.category, e.content_digest,"
    " e.cid, e.record_cid) END::text, 'UTF8')), 'hex')")
LEGACY_DIGEST = (
    "encode(sha256(convert_to(json_build_array(e.sequence, e.event_time, e.category, e.action,"
    " e.outcome, e.uid, e.login, e.ip, e.user_agent, e.model, e.res_id, e.res_name, e.changes,"
    " e.details, e.request_path)::text, 'UTF8')), 'hex')")
BATCH = 20000


def load_published(lines):
    """The checkpoint records of a published file, oldest first."""
    records = [json.loads(line) for line in lines if line.strip()]
    records = [r for r in records if r.get("type") not in ("public_key", "event")]
    return sorted(records, key=lambda r: (r.get("number") is not None, r.get("number") or 0,
                                          r["sequence"]))


def verify_database(cr, published, public_pem):
    """Problems found (a list of strings; empty: the chain holds). `cr`: a
    DB-API cursor on the database; `published`: checkpoint records."""
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
                        ELSE {CONTENT_DIGEST} END, e.content_digest
              FROM audit_event e
             WHERE e.sequence > %s ORDER BY e.sequence LIMIT %s""", [after, BATCH])  # noqa: S608
        rows = cr.fetchall()
        if not rows:
            break
        for (seq, prev_hash, digest, hash_, redacted, legacy, digest_now, content_now,
             content) in rows:
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
            if seq in wanted:
                held[seq] = hash_
            previous = (seq, hash_)
        after = rows[-1][0]
    for record in published:
        if first is not None and record["sequence"] < first:
            continue  # before the retained events (purged): vouched by signature only
        if held.get(record["sequence"]) != record["hash"]:
            problems.append(f"checkpoint {record.get('number') or record['sequence']}: the chain "
                            f"no longer holds its hash at sequence {record['sequence']}")
    if previous and published and previous[0] < max(r["sequence"] for r in published):
        problems.append(f"events after {previous[0]}: missing (a published checkpoint is later)")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="libpq connection string of the database")
    parser.add_argument("--checkpoints", required=True, help="published checkpoints (JSON Lines)")
    parser.add_argument("--public-key", required=True, help="the signing key's public PEM")
    args = parser.parse_args(argv)
    import psycopg2  # noqa: PLC0415 (only the command needs it)

    with open(args.checkpoints, encoding="utf-8") as fh:
        published = load_published(fh)
    with open(args.public_key, encoding="utf-8") as fh:
        public_pem = fh.read()
    conn = psycopg2.connect(args.dsn)
    try:
        conn.set_session(readonly=True)
        with conn.cursor() as cr:
            problems = verify_database(cr, published, public_pem)
    finally:
        conn.close()
    for problem in problems:
        print(problem)
    print("the audit chain holds" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
