"""What shows that retention removed only what was due: the checks the
module's verification and the auditor's verifier share. Plain Python and SQL
text (PostgreSQL parameters %(v2_from)s and %(redact)s).

- A redacted event keeps sequence, time, category and its content digest,
  nothing else; a later redaction record of its category covers it, with a
  cutoff after its time, at least the record's days before the record's own
  time, those days no fewer than the floor.
- A purge (the chain's retained events start after sequence 1) is recorded
  by a sealed purge event naming the anchor; the events it removed were
  already covered by a signed checkpoint at least the shortest floor before
  the purge (so nobody deletes recent events and calls it retention).
"""
import json
from datetime import datetime, timedelta

try:
    from . import chain
except ImportError:  # the verifier, run as a script: this folder is on the path
    import chain

PURGE_ACTION = "retention.purge"  # never redacted: it explains the anchor
REDACT_ACTION = "retention.redact"  # never redacted: it shows the redactions were due
POLICY_ACTION = "retention.policy"  # never redacted: the retention in force from then on
# the security guide's retention periods: the floor nobody goes below, unless
# the server's administrator lowers it in odoo.conf (audit_retention_floor_days)
SEED_FLOOR_DAYS = {"authentication": 90, "authorization": 90, "resource_change": 365,
                   "api_access": 90, "security_event": 365}
# checkpoints are signed hourly and retention runs daily: the events a purge
# removes may have been checkpointed up to this much after their cutoff
CHECKPOINT_LAG = timedelta(days=1)


def floors(configured=None):
    """{category: floor days}: the seed periods, lowered for every category to
    `configured` (odoo.conf audit_retention_floor_days) when given."""
    if configured in (None, False, ""):
        return dict(SEED_FLOOR_DAYS)
    try:
        lowest = max(int(configured), 1)
    except (TypeError, ValueError):
        return dict(SEED_FLOOR_DAYS)
    return {category: min(days, lowest) for category, days in SEED_FLOOR_DAYS.items()}

# what redaction empties: a redacted row still holding any of it was forged
CONTENT_COLUMNS = ("action", "outcome", "uid", "login", "ip", "user_agent", "model", "res_id",
                   "res_name", "changes", "details", "request_path")
REDACTED_WITH_CONTENT = ("coalesce(e.redacted, false) AND num_nonnulls("
                         + ", ".join(f"e.{column}" for column in CONTENT_COLUMNS) + ") > 0")

_UNDUE_REDACTION = """
    WITH records AS MATERIALIZED (
        SELECT r.sequence, r.details::jsonb ->> 'category' AS category,
               (r.details::jsonb ->> 'first')::bigint AS first,
               (r.details::jsonb ->> 'last')::bigint AS last,
               (r.details::jsonb ->> 'cutoff')::timestamp AS cutoff
          FROM audit_event r
          JOIN (VALUES {floors}) AS f(category, days)
            ON f.category = r.details::jsonb ->> 'category'
          -- the policy in force then: the last signed policy record of the
          -- category before it (none: the floor; 0 keeps events forever)
          LEFT JOIN LATERAL (
                SELECT (p.details::jsonb ->> 'days')::int AS days FROM audit_event p
                 WHERE p.action = %(policy)s AND p.sequence = ANY(%(policies)s::bigint[])
                   AND p.sequence < r.sequence AND p.details::jsonb ->> 'category' = f.category
                 ORDER BY p.sequence DESC LIMIT 1) AS policy ON true
         WHERE r.action = %(redact)s AND r.sequence >= %(v2_from)s
           AND r.sequence = ANY(%(trusted)s::bigint[])
           AND NOT coalesce(r.redacted, false)
           AND (r.details::jsonb ->> 'days')::int >= f.days
           AND coalesce(policy.days, 1) <> 0
           AND (r.details::jsonb ->> 'days')::int >= coalesce(policy.days, 0)
           AND (r.details::jsonb ->> 'cutoff')::timestamp
               <= r.event_time - make_interval(days => (r.details::jsonb ->> 'days')::int))
    SELECT min(e.sequence)
      FROM audit_event e
     WHERE e.redacted AND e.sequence >= %(v2_from)s
       AND NOT EXISTS (SELECT 1 FROM records r
                        WHERE r.category = e.category AND r.sequence > e.sequence
                          AND e.sequence BETWEEN r.first AND r.last
                          AND r.cutoff > e.event_time)
"""


def undue_redaction_sql(floors):
    """SQL: the first redacted event no redaction record vouches for (None if
    every one is). `floors`: {category: the shortest retention in days}."""
    values = ", ".join(f"('{category}', {int(days)})" for category, days in sorted(floors.items())
                       if category.replace("_", "").isalpha())
    return _UNDUE_REDACTION.format(floors=values)


def _as_datetime(value):
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def purge_problem(anchor_sequence, purge_time, checkpoints, floor_days):
    """Why a purge up to `anchor_sequence`, recorded at `purge_time`, was not
    due, or None. `checkpoints`: [(sequence, signed_at)] that can be trusted
    (published, or verified with the key). The events the purge removed
    existed when the first checkpoint at or after the anchor was signed;
    they cannot have been older than the floor unless that was at least
    `floor_days` before the purge."""
    covering = [_as_datetime(signed_at) for sequence, signed_at in checkpoints
                if sequence >= anchor_sequence]
    if not covering:
        return None  # never checkpointed: nothing vouched for them, nothing to compare
    earliest = min(covering)
    if _as_datetime(purge_time) - earliest < timedelta(days=floor_days) - CHECKPOINT_LAG:
        return (f"events up to {anchor_sequence} were purged at {purge_time}, less than "
                f"{floor_days} days after a checkpoint covered them ({earliest.isoformat()})")
    return None


# The records retention leaves (redactions, purges) are signed with the
# checkpoint key when the server has one: from the first signed record on, a
# record without a valid signature is not the server's (a row planted in SQL,
# which the sealer would chain like any other) and vouches for nothing.
RECORDS_SQL = ("SELECT sequence, details FROM audit_event WHERE action = %(action)s"
               " AND sequence IS NOT NULL AND NOT coalesce(redacted, false) ORDER BY sequence")


def record_payload(details):
    """The bytes a retention record's signature covers: its details but the
    signature, canonical."""
    body = {key: value for key, value in details.items() if key != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def trusted_records(rows, public_pem):
    """The sequences of the records (rows of (sequence, details JSON)) that
    vouch: all of them until the first one signed with `public_pem`'s key,
    then only those signed so. Without a key, all of them."""
    trusted, signed_from = [], None
    for sequence, details in sorted(rows):
        try:
            values = json.loads(details or "{}")
        except ValueError:
            values = {}
        signed = bool(public_pem and values.get("signature")) and chain.verify_signature(
            public_pem, record_payload(values), values["signature"])
        if signed and signed_from is None:
            signed_from = sequence
        if not public_pem or signed or signed_from is None:
            trusted.append(sequence)
    return trusted
