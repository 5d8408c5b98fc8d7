"""The digests of an audit event, as PostgreSQL computes them from the row:
the one definition the module seals and verifies with (models/audit_event.py)
and the auditor's verifier recomputes (lib/verify.py). Plain text: `e` is
the table alias, `seq` and `content` SQL expressions (the sequence, the
content digest). PostgreSQL renders the JSON, so the text hashed is the same
wherever it is computed.

- content: what redaction removes (kept after a redaction: the event's
  digest still commits to the removed content);
- event: the digest chained from `digest_v2_from` on: what shows when the
  event was due for redaction (sequence, time, category), whose it is (its
  companies, when it has any), and the content digest;
- legacy: the single digest of events sealed before `digest_v2_from`.
"""

_COMPANIES = ("CASE WHEN {e}.cid IS NULL AND {e}.record_cid IS NULL"
              " THEN json_build_array({fields})"
              " ELSE json_build_array({fields}, {e}.cid, {e}.record_cid) END")
_CONTENT_FIELDS = ("{e}.action, {e}.outcome, {e}.uid, {e}.login, {e}.ip, {e}.user_agent,"
                   " {e}.model, {e}.res_id, {e}.res_name, {e}.changes, {e}.details,"
                   " {e}.request_path")


def _sha256_hex(json_expr):
    return f"encode(sha256(convert_to({json_expr}::text, 'UTF8')), 'hex')"


def content(e="e"):
    return _sha256_hex("json_build_array(" + _CONTENT_FIELDS.format(e=e) + ")")


def event(e="e", seq=None, content_expr=None):
    fields = f"{seq or e + '.sequence'}, {e}.event_time, {e}.category, " \
             f"{content_expr or e + '.content_digest'}"
    return _sha256_hex(_COMPANIES.format(e=e, fields=fields))


def legacy(e="e", seq=None):
    fields = f"{seq or e + '.sequence'}, {e}.event_time, {e}.category, " \
             + _CONTENT_FIELDS.format(e=e)
    return _sha256_hex(_COMPANIES.format(e=e, fields=fields))
