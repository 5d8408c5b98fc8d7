import json
import logging
import re
import threading
import time
from datetime import datetime, timedelta

import psycopg2.errors
import psycopg2.extensions

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.tools import SQL, config

from odoo.addons.security_roles import actor
from odoo.addons.security_roles.models.cursors import independent_cursor

from ..lib import chain, digests, proofs
from ..lib.scrub import FILTERED, is_secret_name
from .audit_append_only import BigInteger

_logger = logging.getLogger(__name__)

CATEGORIES = [
    ("authentication", "Authentication"),
    ("authorization", "Authorization"),
    ("resource_change", "Resource Change"),
    ("api_access", "API Access"),
    ("security_event", "Security Event"),
]
OUTCOMES = [("success", "Success"), ("failure", "Failure"), ("denied", "Denied")]
# events a rollback must not take away: written at once on their own cursor
IMMEDIATE_OUTCOMES = ("failure", "denied")
BUFFER_KEY = "audit_trail.events"
INSERT_COLUMNS = ("event_time", "category", "action", "outcome", "uid", "login", "ip",
                  "user_agent", "model", "res_id", "res_name", "changes", "details",
                  "request_path", "cid", "record_cid")
# statements the pending events may be sent ahead of in one round trip (not
# DDL, which may refuse to run in a multi-statement string)
# ROLLBACK (TO SAVEPOINT) drops them instead: it would undo them
CARRIERS = frozenset(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES", "SAVEPOINT",
                      "RELEASE", "ROLLBACK"))
STATEMENT_KEYWORD = {str: re.compile(r"\s*([A-Za-z]+)").match,
                     bytes: re.compile(rb"\s*([A-Za-z]+)").match}
INSERT_VALUES = "INSERT INTO audit_event (%s) VALUES " % ", ".join(f'"{c}"' for c in INSERT_COLUMNS)
INSERT_ROW = "(%s)" % ", ".join(["%s"] * len(INSERT_COLUMNS))
PURGE_ACTION = proofs.PURGE_ACTION  # never redacted: it explains the anchor
REDACT_ACTION = proofs.REDACT_ACTION  # never redacted: it shows the redactions were due
POLICY_ACTION = proofs.POLICY_ACTION  # never redacted: the retention in force from then on
KEPT_ACTIONS = (PURGE_ACTION, REDACT_ACTION, POLICY_ACTION)
SEAL_BATCH = 5000
SEAL_BUDGET = 60  # seconds a weakening waits for its event to be sealed
SMALL_BATCH = 20
CHUNK = 5000


def canonical_digest(alias, sequence):
    """SQL: the single digest of an event sealed before `digest_v2_from`
    (all of it: a redacted event of that era cannot be checked)."""
    return SQL(digests.legacy(SQL.identifier(alias).code, "%(seq)s"), seq=sequence)


def content_digest(alias):
    """SQL: the digest of what redaction removes from an event."""
    return SQL(digests.content(SQL.identifier(alias).code))


def event_digest(alias, sequence, content):
    """SQL: an event's digest (the one chained); see lib/digests.py."""
    return SQL(digests.event(SQL.identifier(alias).code, "%(seq)s", "%(content)s"),
               seq=sequence, content=content)


def _keyword(query):
    """The first word of a statement, upper case (None if not plain text)."""
    match = STATEMENT_KEYWORD.get(type(query))
    word = match and match(query)
    if not word:
        return None
    word = word[1].upper()
    return word.decode() if isinstance(word, bytes) else word


def _json_default(value):
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _plain_value(value):
    if isinstance(value, models.BaseModel):
        return value.ids
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _json(value):
    return json.dumps(value, sort_keys=True, default=str) if value else None


class AuditEvent(models.Model):
    _name = "audit.event"
    _inherit = ["audit.append.only.mixin"]
    _description = "Audit Event"
    _order = "id desc"
    _log_access = False  # event_time is the timestamp; no write_uid on an append-only log

    sequence = BigInteger(readonly=True, copy=False,
                              help="Position in the hash chain, given when the event is sealed.")
    event_time = fields.Datetime(string="Time (UTC)", readonly=True)
    category = fields.Selection(CATEGORIES, readonly=True)
    action = fields.Char(readonly=True)
    outcome = fields.Selection(OUTCOMES, readonly=True)
    uid = fields.Integer(string="User ID", readonly=True, index=True)
    user_id = fields.Many2one("res.users", compute="_compute_user_id",
                              search="_search_user_id")
    login = fields.Char(readonly=True)
    ip = fields.Char(string="IP Address", readonly=True)
    user_agent = fields.Char(readonly=True)
    model = fields.Char(readonly=True)
    res_id = fields.Integer(string="Record ID", readonly=True)
    res_name = fields.Char(string="Record", readonly=True)
    changes = fields.Text(readonly=True, help="Changed fields as JSON: {field: [old, new]}.")
    details = fields.Text(readonly=True)
    request_path = fields.Char(readonly=True)
    # the company the user acted in, and the audited record's company: plain
    # integers like uid (no foreign key: deleting a company must not rewrite
    # the chain); the record rules of audit.event read them
    cid = fields.Integer(string="Company ID", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", compute="_compute_company_ids",
                                 search="_search_company_id",
                                 help="The company the user acted in.")
    record_cid = fields.Integer(string="Record Company ID", readonly=True)
    record_company_id = fields.Many2one("res.company", string="Record Company",
                                        compute="_compute_company_ids",
                                        search="_search_record_company_id",
                                        help="The company of the audited record.")
    digest = fields.Char(readonly=True)
    content_digest = fields.Char(readonly=True,
                                 help="Digest of the content redaction removes; kept after it.")
    prev_hash = fields.Char(readonly=True)
    hash = fields.Char(readonly=True)  # noqa: A003 (the chain's vocabulary)
    redacted = fields.Boolean(readonly=True,
                              help="The retention period is over: the content is gone, the "
                                   "digest stays so the chain still verifies.")

    def init(self):
        # no foreign keys from the log to users or records: deleting a user
        # must not rewrite (and so break) the chain
        self.env.cr.execute(SQL("""
            CREATE UNIQUE INDEX IF NOT EXISTS audit_event_sequence_uniq
                ON audit_event (sequence) WHERE sequence IS NOT NULL;
            CREATE INDEX IF NOT EXISTS audit_event_unsealed_idx
                ON audit_event (id) WHERE sequence IS NULL;
            -- few, cheap indexes: every audited write pays for each of them
            CREATE INDEX IF NOT EXISTS audit_event_record_idx ON audit_event (model, res_id);
            CREATE INDEX IF NOT EXISTS audit_event_time_brin ON audit_event USING brin (event_time);
            -- the few records retention leaves, read by every verification
            -- (without it, each lookup of them read the whole trail)
            CREATE INDEX IF NOT EXISTS audit_event_retention_records_idx
                ON audit_event (action, sequence)
             WHERE action IN ('retention.redact', 'retention.purge', 'retention.policy');
            CREATE TABLE IF NOT EXISTS audit_chain_state (
                id integer PRIMARY KEY CHECK (id = 1),
                last_sequence bigint NOT NULL DEFAULT 0,
                last_hash varchar NOT NULL,
                anchor_sequence bigint NOT NULL DEFAULT 0,
                anchor_hash varchar NOT NULL
            );
            INSERT INTO audit_chain_state (id, last_hash, anchor_hash)
                VALUES (1, %(genesis)s, %(genesis)s) ON CONFLICT (id) DO NOTHING;
            -- from this sequence on, digests are two-level (event_digest):
            -- events sealed before (an older version of the module) keep theirs
            ALTER TABLE audit_chain_state ADD COLUMN IF NOT EXISTS digest_v2_from bigint;
            -- the last signed checkpoint a verification covered (incremental checks)
            ALTER TABLE audit_chain_state ADD COLUMN IF NOT EXISTS verified_checkpoint bigint;
            ALTER TABLE audit_chain_state ADD COLUMN IF NOT EXISTS verified_anchor bigint;
            ALTER TABLE audit_chain_state ADD COLUMN IF NOT EXISTS verified_signature varchar;
            UPDATE audit_chain_state SET digest_v2_from = last_sequence + 1
             WHERE id = 1 AND digest_v2_from IS NULL;
        """, genesis=chain.GENESIS))

    @api.depends("uid")
    def _compute_user_id(self):
        for event in self:
            event.user_id = event.uid or False

    @api.depends("cid", "record_cid")
    def _compute_company_ids(self):
        for event in self:
            event.company_id = event.cid or False
            event.record_company_id = event.record_cid or False

    @api.model
    def _company_domain(self, column, operator, value):
        if operator in ("=", "!=", "in", "not in") and (
                not value or isinstance(value, int)
                or all(isinstance(v, int) for v in value)):
            return [(column, operator, value)]
        companies = self.env["res.company"].sudo()._search([("name", operator, value)])
        return [(column, "in", companies)]

    def _search_company_id(self, operator, value):
        return self._company_domain("cid", operator, value)

    def _search_record_company_id(self, operator, value):
        return self._company_domain("record_cid", operator, value)

    def _search_user_id(self, operator, value):
        users = self.env["res.users"].with_context(active_test=False)._search(
            [("id", operator, value)] if isinstance(value, (int, list, tuple)) or operator
            in ("in", "not in") else [("name", operator, value)])
        return [("uid", "in", users)]

    # ------------------------------------------------------------------
    # Append-only: nothing goes through the ORM, superuser included
    # ------------------------------------------------------------------
    def _search(self, *args, **kwargs):
        # a search sees the events its own transaction has recorded (its
        # SELECT carries them, unless the cursor does not carry events)
        if "execute" not in self.env.cr.__dict__:
            self._flush_buffer()
        return super()._search(*args, **kwargs)

    # ------------------------------------------------------------------
    # The API every module uses
    # ------------------------------------------------------------------
    @api.private  # the code records events; nobody over RPC
    @api.model
    def log(self, category, action, *, outcome="success", model=None, res_id=None,
            res_name=None, changes=None, details=None, user=None, login=None, immediate=None):
        """Record an audit event.

        Successful events join the transaction, sent with its next statement
        (see _buffer); failures and denials are written at once on their own cursor,
        so the rollback of the failing transaction keeps them. `changes` and
        `details` must already be free of secrets (see lib.scrub).
        """
        row = self._event_row(category, action, outcome=outcome, model=model, res_id=res_id,
                              res_name=res_name, changes=changes, details=details, user=user,
                              login=login)
        if immediate is None:
            immediate = outcome in IMMEDIATE_OUTCOMES
        if immediate:
            self._insert_now([row])
        else:
            self._buffer([row])

    @api.model
    def _log_sealed(self, category, action, required=False, **kwargs):
        """Record an event and seal it into the chain at once, committed on a
        cursor of its own: it stands before whatever the current transaction
        goes on to do. Returns its sequence. If it cannot be sealed within
        SEAL_BUDGET seconds (another sealer holds the chain, a flood of events
        waits before it), it is recorded and chained by the next run, and with
        `required` a UserError refuses what was to follow."""
        row = self._event_row(category, action, **kwargs)
        sequence = None
        with independent_cursor(self.env) as cr:
            if cr is None:  # a read-only test cursor: recorded with the transaction
                self._buffer([row])
                return None
            self._insert(cr, [row])
            cr.execute("SELECT currval(pg_get_serial_sequence('audit_event', 'id'))")
            event_id = cr.fetchone()[0]
            Event = self.with_env(self.env(cr=cr))
            deadline = time.monotonic() + SEAL_BUDGET
            while sequence is None and time.monotonic() < deadline:
                try:
                    with cr.savepoint():
                        if not Event._seal(wait=True):
                            break
                except psycopg2.errors.LockNotAvailable:
                    continue
                cr.execute("SELECT sequence FROM audit_event WHERE id = %s", [event_id])
                sequence = cr.fetchone()[0]
        if sequence is None and required:
            raise UserError(self.env._(
                "The audit trail could not seal the record of this change in time (it is "
                "busy sealing other events). Nothing was changed: try again in a minute."))
        return sequence

    @api.model
    def _log_weakening(self, records, operation, weakened):
        """The Owner (or a technical-access Admin) weakens a protection: the
        event is sealed before the change is made, and the Owner and Admins are
        alerted. `weakened`: [(record, field name or None)]."""
        fields_ = sorted({name for _record, name in weakened if name})
        changes = {}
        for record, name in weakened:
            if name and record.id and not records._security_confidential:
                value = FILTERED if is_secret_name(name) else record.sudo()[name]
                changes.setdefault(str(record.id), {})[name] = _plain_value(value)
        ids = sorted({record.id for record, _name in weakened if record.id})
        principal = actor.acting_uid(self.env)
        self._log_sealed(
            "security_event", "protection.weakened", required=True, model=records._name,
            res_id=ids[0] if len(ids) == 1 else None, user=self.env["res.users"].browse(principal),
            details={"operation": operation, "records": ids[:50], "fields": fields_,
                     "before": changes})
        user = self.env["res.users"].sudo().browse(principal)
        what = records._description or records._name
        self.env["audit.alert"].raise_alert(
            "protection_weakened", self.env._("Protection weakened: %s", what),
            self.env._("%(user)s is %(operation)s %(what)s%(fields)s (records %(ids)s).",
                       user=user.name or self.env._("The server"),
                       operation={"create": self.env._("creating"),
                                  "write": self.env._("changing"),
                                  "unlink": self.env._("deleting")}[operation],
                       what=what, fields=(": " + ", ".join(
                           records._fields[name].string for name in fields_)) if fields_ else "",
                       ids=", ".join(map(str, ids)) or "-"),
            severity="warning", dedupe_minutes=0)

    @api.model
    def _event_row(self, category, action, *, outcome="success", model=None, res_id=None,
                   res_name=None, changes=None, details=None, user=None, login=None):
        if category not in dict(CATEGORIES) or outcome not in dict(OUTCOMES):
            raise ValueError(f"unknown audit category/outcome: {category}/{outcome}")
        uid = user.id if user else self.env.uid
        return {
            **self._event_companies(user, model, res_id),
            "event_time": datetime.utcnow(),
            "category": category, "action": action, "outcome": outcome,
            "uid": uid or None, "login": login, **self._request_context(),
            "model": model, "res_id": res_id, "res_name": res_name,
            "changes": _json(changes), "details": _json(details),
        }

    @api.model
    def _event_companies(self, user=None, model=None, res_id=None):
        """{cid, record_cid} of an event: the company the acting user acted
        in (none for the server, the superuser and visitors: such events
        concern the whole database) and the audited record's company."""
        record_cid = None
        if model and res_id and model in self.env and "company_id" in self.env[model]._fields \
                and self.env[model]._fields["company_id"].comodel_name == "res.company":
            # sudo: the company only labels the event; the caller named the record
            record_cid = self.env[model].sudo().browse(res_id).exists().company_id.id or None
        user = user or self.env.user
        if not user or user.id == SUPERUSER_ID:
            return {"cid": None, "record_cid": record_cid}
        if user.id == self.env.uid:
            try:
                cid = self.env.company.id if not user._is_public() else None
            except AccessError:  # a context naming companies the user has not
                cid = user.sudo().company_id.id or None  # sudo: a label
        else:  # an event about another user (a failed login): that user's company
            cid = user.sudo().company_id.id or None  # sudo: a label, the caller chose the user
        return {"cid": cid, "record_cid": record_cid}

    @api.model
    def _request_context(self):
        if not request:
            rpc_client = getattr(threading.current_thread(), "audit_rpc_client", None)
            return rpc_client or {"ip": None, "user_agent": None, "request_path": None}
        httprequest = request.httprequest
        return {
            "ip": httprequest.remote_addr,
            "user_agent": (httprequest.headers.get("User-Agent") or "")[:512] or None,
            "request_path": httprequest.path[:512],
        }

    @api.model
    def _buffer(self, rows):
        """Record rows as if inserted at once, without a round trip of their
        own: they go with the cursor's next statement (`INSERT ...; <statement>`,
        usually the UPDATE that flushes the audited write), or at commit if
        none comes. Like an immediate INSERT, they are undone by the rollback
        of a savepoint taken before them and kept by one taken after."""
        cr = self.env.cr
        pending = cr.precommit.data.get(BUFFER_KEY)
        if pending is None:
            pending = cr.precommit.data[BUFFER_KEY] = []
            cr.precommit.add(self._flush_buffer)
        pending.extend(rows)
        # not on a read-only cursor (the INSERT waits for the commit, as the
        # rest), nor on the test cursor the test requests' cursors run through
        if ("execute" not in cr.__dict__ and not cr.readonly
                and cr is not self.env.registry.test_cr):
            cr.execute = self._execute_with_events(cr)

    @api.model
    def _execute_with_events(self, cr):
        """cr.execute, which sends the pending events ahead of the next
        statement that may carry them, then gives the cursor its own back."""
        execute = cr.execute  # the cursor class's method, bound

        def execute_with_events(query, params=None, log_exceptions=True):
            pending = cr.precommit.data.get(BUFFER_KEY)
            if isinstance(query, SQL):
                assert params is None, "Unexpected parameters for SQL query object"
                query, params = query.code, query.params
            keyword = _keyword(query) if pending else None
            if pending and keyword not in CARRIERS:
                return execute(query, params, log_exceptions)  # DDL &c.: the next one
            cr.__dict__.pop("execute", None)
            if keyword == "ROLLBACK":  # it undoes them anyway (and the transaction
                pending.clear()        # may be aborted: an INSERT would fail)
            if not pending:
                return execute(query, params, log_exceptions)
            insert = cr.mogrify(self._insert_sql(pending))  # bytes, values inlined
            if params:  # the statement's own placeholders come after ours
                insert = insert.replace(b"%", b"%%")
            encoded = query.encode(psycopg2.extensions.encodings[cr.connection.encoding]
                                   ) if isinstance(query, str) else query
            pending.clear()
            try:
                # not logged with the events: a failed UPDATE must not put old
                # and new values in the server log (and Sentry)
                return execute(insert + b";\n" + encoded, params or None, False)
            except Exception as error:
                if log_exceptions:
                    _logger.error("bad query: %s\nERROR: %s", query, error)
                raise

        return execute_with_events

    def _flush_buffer(self):
        cr = self.env.cr
        pending = cr.precommit.data.get(BUFFER_KEY)
        cr.__dict__.pop("execute", None)
        if pending:
            rows = pending[:]
            pending.clear()
            self._insert(cr, rows)

    @api.model
    def _insert_now(self, rows):
        try:
            with independent_cursor(self.env) as cr:
                if cr is None:  # only under Odoo's test cursors, in a read-only request
                    _logger.info("audit event(s) not recorded: read-only test cursor")
                    return
                self._insert(cr, rows)
        except Exception:
            # an audit write must never turn a refusal into a crash
            _logger.exception("could not record %d audit event(s)", len(rows))

    @api.model
    def _insert(self, cr, rows):
        cr.execute(self._insert_sql(rows))

    @api.model
    def _insert_sql(self, rows):
        """One statement for all the rows: a few as plain VALUES (cheap to
        plan), many as one JSON parameter (cheap to build). A missing login
        snapshot is filled in by the sealer, off the writer's path."""
        if len(rows) <= SMALL_BATCH:
            return SQL(INSERT_VALUES + ", ".join([INSERT_ROW] * len(rows)),
                       *[row.get(col) for row in rows for col in INSERT_COLUMNS])
        columns = SQL(", ").join(map(SQL.identifier, INSERT_COLUMNS))
        return SQL(
            "INSERT INTO audit_event (%s) SELECT %s"
            "  FROM json_populate_recordset(NULL::audit_event, %s) r",
            columns, SQL(", ").join(SQL("r.%s", SQL.identifier(c)) for c in INSERT_COLUMNS),
            json.dumps(rows, default=_json_default))

    # ------------------------------------------------------------------
    # Sealing: sequence numbers and hashes, in the background
    # ------------------------------------------------------------------
    @api.model
    def _seal(self, limit=SEAL_BATCH, wait=False):
        """Seal up to `limit` committed, unsealed events in one transaction.
        Returns how many were sealed. One sealer at a time (advisory lock);
        writers never wait for it, unless `wait` (a few seconds at most)."""
        self._flush_buffer()
        cr = self.env.cr
        if wait:
            cr.execute("SELECT current_setting('lock_timeout')")
            timeout = cr.fetchone()[0]
            cr.execute("SET LOCAL lock_timeout = '5s'")
            cr.execute("SELECT pg_advisory_xact_lock(hashtext('audit_trail.seal'))")
            cr.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])
        else:
            cr.execute("SELECT pg_try_advisory_xact_lock(hashtext('audit_trail.seal'))")
            if not cr.fetchone()[0]:
                return 0
        cr.execute("SELECT last_sequence, last_hash FROM audit_chain_state WHERE id = 1 FOR UPDATE")
        last_sequence, last_hash = cr.fetchone()
        cr.execute(SQL("SELECT id FROM audit_event WHERE sequence IS NULL ORDER BY id LIMIT %s",
                       limit))
        ids = [row[0] for row in cr.fetchall()]
        if not ids:
            return 0
        # the login snapshot of events recorded with a user id only
        cr.execute(SQL("UPDATE audit_event e SET login = u.login FROM res_users u"
                       " WHERE e.id = ANY(%s) AND e.login IS NULL AND u.id = e.uid", ids))
        # nothing is sealed as having happened later than its sealing (a
        # redaction record dated ahead would vouch for redactions not yet due)
        now = fields.Datetime.now()
        cr.execute(SQL("UPDATE audit_event SET event_time = %s WHERE id = ANY(%s)"
                       " AND event_time > %s", now, ids, now))
        numbered = SQL(", ").join(SQL("(%s, %s)", id_, last_sequence + n)
                                  for n, id_ in enumerate(ids, 1))
        cr.execute(SQL(
            "SELECT id, seq, content, %s FROM (SELECT v.id, v.seq, e.event_time, e.category,"
            " e.cid, e.record_cid, %s AS"
            " content FROM audit_event e JOIN (VALUES %s) AS v(id, seq) ON v.id = e.id) e"
            " ORDER BY seq", event_digest("e", SQL("e.seq"), SQL("e.content")),
            content_digest("e"), numbered))
        rows = cr.fetchall()
        hashes = chain.seal(last_hash, [digest for _id, _seq, _content, digest in rows])
        prevs = [last_hash, *hashes[:-1]]
        updates = SQL(", ").join(
            SQL("(%s, %s::bigint, %s, %s, %s, %s)", id_, seq, content, digest, prev, hash_)
            for (id_, seq, content, digest), prev, hash_ in zip(rows, prevs, hashes, strict=True))
        cr.execute(SQL(
            "UPDATE audit_event e SET sequence = v.seq, content_digest = v.content,"
            " digest = v.digest, prev_hash = v.prev, hash = v.hash"
            " FROM (VALUES %s) AS v(id, seq, content, digest, prev, hash) WHERE e.id = v.id",
            updates))
        cr.execute(SQL("UPDATE audit_chain_state SET last_sequence = %s, last_hash = %s WHERE id = 1",
                       rows[-1][1], hashes[-1]))
        self.invalidate_model()
        return len(rows)

    @api.model
    def _cron_seal(self):
        sealed = self._seal()
        cr = self.env.cr
        cr.execute("SELECT count(*) FROM audit_event WHERE sequence IS NULL")
        remaining = cr.fetchone()[0]
        # (checkpoints are signed, and published, by the hourly job: one a
        # minute would be a published object a minute)
        self.env["ir.cron"]._notify_progress(done=sealed, remaining=remaining)

    # ------------------------------------------------------------------
    # Verification
    # ------------------------------------------------------------------
    @api.model
    def _verify(self, after=None):
        """Recompute the chain. Returns None when it holds, else a dict with
        the first broken or missing sequence number and the reason.
        `after`: (sequence, hash) of a point already verified (a signed
        checkpoint): only the events after it are checked, linked to it."""
        self._flush_buffer()
        cr = self.env.cr
        cr.execute("SELECT last_sequence, last_hash, anchor_sequence, anchor_hash, digest_v2_from"
                   " FROM audit_chain_state WHERE id = 1")
        last_sequence, last_hash, anchor_sequence, anchor_hash, v2_from = cr.fetchone()
        # the boundary the signed checkpoints carry, not the chain state's
        # (which a database user could move to pass recent events off as old)
        cr.execute("SELECT digest_v2_from FROM audit_checkpoint WHERE number IS NOT NULL"
                   " ORDER BY number LIMIT 1")
        signed = cr.fetchone()
        if signed and signed[0] != v2_from:
            return {"sequence": min(signed[0] or 0, v2_from or 0), "reason": "boundary"}
        # content and hash of each event: row by row, so in a parallel scan
        # (min(sequence + 0): not the index's ordered, single-process plan; no
        # WHERE: stale statistics on sealed rows must not talk the planner out of it)
        # (from digest_v2_from on, the digest commits to sequence, time and
        # category, and to the content's digest, which a redacted event keeps)
        if after and after[0] < anchor_sequence:  # purged since: from the anchor on
            after = (anchor_sequence, anchor_hash)
        since = SQL("WHERE e.sequence > %s", after[0]) if after else SQL("")
        cr.execute(SQL("""
            SELECT min(e.sequence + 0) FILTER (WHERE e.sequence IS NOT NULL AND ((
                       CASE WHEN e.sequence < %(v2_from)s
                            THEN NOT coalesce(e.redacted, false)
                                 AND e.digest IS DISTINCT FROM %(digest_v1)s
                            ELSE e.digest IS DISTINCT FROM %(digest)s
                                 OR (NOT coalesce(e.redacted, false)
                                     AND e.content_digest IS DISTINCT FROM %(content)s) END)
                       -- a redacted event holds no content: any it shows is unvouched
                       OR %(redacted_with_content)s)),
                   min(e.sequence + 0) FILTER (WHERE e.sequence IS NOT NULL
                                               AND e.hash IS DISTINCT FROM encode(sha256(
                       decode(e.prev_hash, 'hex') || decode(e.digest, 'hex')), 'hex')),
                   -- whether there is any redaction to check (below)
                   bool_or(e.redacted) FILTER (WHERE e.sequence >= %(v2_from)s)
              FROM audit_event e %(since)s
        """, since=since, v2_from=v2_from, digest_v1=canonical_digest("e", SQL("e.sequence")),
            digest=event_digest("e", SQL("e.sequence"), SQL("e.content_digest")),
            content=content_digest("e"), redacted_with_content=SQL(proofs.REDACTED_WITH_CONTENT)))
        content, hash_, redacted = cr.fetchone()
        # a redaction shows it was due: a later sealed redaction record of its
        # category covers it, with a cutoff after its time (the retention in
        # force then, never shorter than the floor); the scan above saw
        # whether any event it checks (sequence > after, >= v2_from) is redacted
        undue = self._first_undue_redaction(
            max(v2_from, after[0] + 1) if after else v2_from) if redacted else None
        start_seq, start_hash = after or (anchor_sequence, anchor_hash)
        # gaps and links between consecutive events, in sequence order: the
        # window over the sequence index, already in that order, in a single
        # process (a sort of every row, even parallel, costs more)
        rows = self._execute_planned(SQL("""
            SELECT sequence, prev_seq, CASE
                       WHEN coalesce(prev_seq, %(anchor_seq)s) <> sequence - 1 THEN 'missing'
                       ELSE 'link' END
              FROM (SELECT sequence, prev_hash, lag(sequence) OVER w AS prev_seq,
                           lag(hash) OVER w AS prev_row_hash
                      FROM audit_event
                     WHERE sequence IS NOT NULL AND sequence > %(anchor_seq)s
                    WINDOW w AS (ORDER BY sequence)) c
             WHERE coalesce(prev_seq, %(anchor_seq)s) <> sequence - 1
                OR prev_hash IS DISTINCT FROM coalesce(prev_row_hash, %(anchor_hash)s)
             ORDER BY sequence LIMIT 1
        """, anchor_seq=start_seq, anchor_hash=start_hash),
            enable_sort="off", max_parallel_workers_per_gather="0")
        row = rows[0] if rows else None
        # the first event with a fault; on one event: missing, content, link, hash
        faults = [(content, 1, "content"), (hash_, 3, "hash"), (undue, 1, "redaction")]
        if row:
            faults.append((row[0], 0 if row[2] == "missing" else 2, row[2]))
        faults = [fault for fault in faults if fault[0] is not None]
        if faults:
            sequence, _rank, reason = min(faults)
            if reason == "missing":
                prev_seq = row[1]
                return {"sequence": (prev_seq if prev_seq is not None else start_seq) + 1,
                        "reason": "missing"}
            return {"sequence": sequence, "reason": reason}
        cr.execute("SELECT max(sequence), max(sequence) IS NOT NULL FROM audit_event")
        max_sequence, count = cr.fetchone()
        max_sequence = max_sequence or anchor_sequence
        if max_sequence < last_sequence:
            return {"sequence": max_sequence + 1, "reason": "missing"}
        if last_sequence and count:
            cr.execute("SELECT hash FROM audit_event WHERE sequence = %s", [last_sequence])
            head = cr.fetchone()
            if not head or head[0] != last_hash:
                return {"sequence": last_sequence, "reason": "head"}
        if anchor_sequence and (not after or anchor_sequence > after[0] or anchor_sequence
                                != self._chain_state("verified_anchor")) \
                and not self._anchor_is_recorded(anchor_sequence, anchor_hash):
            return {"sequence": anchor_sequence, "reason": "anchor"}
        return self.env["audit.checkpoint"]._verify_checkpoints()

    @api.model
    def _execute_planned(self, query, **settings):
        """Run `query` with these planner settings, then put them back as they
        were (SET LOCAL alone would last until the end of the transaction; if
        the query fails, the rollback that follows undoes them)."""
        cr = self.env.cr

        def set_all(values):
            cr.execute(SQL("SELECT %s", SQL(", ").join(
                SQL("set_config(%s, %s, true)", name, value) for name, value in values.items())))

        cr.execute(SQL("SELECT %s", SQL(", ").join(SQL("current_setting(%s)", name)
                                                   for name in settings)))
        before = dict(zip(settings, cr.fetchone(), strict=True))
        set_all(settings)
        cr.execute(query)
        rows = cr.fetchall()
        set_all(before)
        return rows

    @api.model
    def _chain_state(self, column):
        self.env.cr.execute(SQL("SELECT %s FROM audit_chain_state WHERE id = 1",
                                SQL.identifier(column)))
        return self.env.cr.fetchone()[0]

    @api.model
    def _verify_incremental(self):
        """The daily check: the events since the last verified signed
        checkpoint (that checkpoint included: its signature, its place among
        the others, and the chain still holding its hash), so a day's cost
        tracks a day's events. Without such a checkpoint, the whole chain."""
        Checkpoint = self.env["audit.checkpoint"]
        key = Checkpoint._private_key()
        self.env.cr.execute("SELECT verified_checkpoint, verified_anchor, verified_signature"
                            " FROM audit_chain_state WHERE id = 1")
        number, anchor, signature = self.env.cr.fetchone()
        checkpoint = number and Checkpoint.search([("number", "=", number)], limit=1)
        if not checkpoint or not key:
            return self._verify()
        # where the last run stopped is signed: moved in SQL, it is not believed
        if not chain.verify_signature(chain.public_key_pem(key),
                                      self._verified_payload(number, anchor), signature or ""):
            return self._verify()
        return self._verify(after=(checkpoint.sequence, checkpoint.hash))

    @api.model
    def _verified_payload(self, number, anchor):
        return json.dumps({"database": self.env["audit.checkpoint"]._database_uuid(),
                           "verified_checkpoint": number, "verified_anchor": anchor},
                          sort_keys=True).encode()

    @api.model
    def _verified(self, head):
        """Remember the latest signed checkpoint a verification up to `head`
        (a sequence) just covered, signed."""
        self.env.cr.execute(SQL("""
            UPDATE audit_chain_state s SET verified_anchor = s.anchor_sequence,
                   verified_checkpoint = (SELECT max(number) FROM audit_checkpoint c
                                           WHERE c.sequence <= %s)
             WHERE id = 1
         RETURNING verified_checkpoint, verified_anchor
        """, head))
        number, anchor = self.env.cr.fetchone()
        key = self.env["audit.checkpoint"]._private_key()
        signature = chain.sign(key, self._verified_payload(number, anchor)) \
            if key and number else None
        self.env.cr.execute("UPDATE audit_chain_state SET verified_signature = %s WHERE id = 1",
                            [signature])

    @api.model
    def _first_undue_redaction(self, v2_from):
        """The first redacted event (of the two-level era) no redaction
        record vouches for, or None. A record (REDACT_ACTION, sealed after the
        events it covers) names a category, a cutoff, the retention days in
        force and the sequences it redacted; its cutoff must be at least that
        many days before its own time, and that many days no fewer than the
        retention floor of this server."""
        floors = proofs.floors(config.get("audit_retention_floor_days"))
        self.env.cr.execute(SQL(proofs.undue_redaction_sql(floors), v2_from=v2_from,
                                redact=REDACT_ACTION,
                                trusted=self._trusted_records(REDACT_ACTION),
                                policy=POLICY_ACTION,
                                policies=self._trusted_records(POLICY_ACTION)))
        return self.env.cr.fetchone()[0]

    @api.model
    def _anchor_is_recorded(self, anchor_sequence, anchor_hash):
        """A purge moves the anchor only together with a sealed purge event,
        and only past events a checkpoint covered at least the shortest
        retention floor before it (lib/proofs.py): nobody deletes recent
        events and calls it retention."""
        cr = self.env.cr
        cr.execute(SQL(
            "SELECT event_time FROM audit_event WHERE action = %s AND sequence > %s"
            " AND NOT coalesce(redacted, false) AND sequence = ANY(%s::bigint[])"
            " AND details::jsonb ->> 'anchor_sequence' = %s"
            " AND details::jsonb ->> 'anchor_hash' = %s ORDER BY sequence LIMIT 1",
            PURGE_ACTION, anchor_sequence, self._trusted_records(PURGE_ACTION),
            str(anchor_sequence), anchor_hash))
        row = cr.fetchone()
        if not row:
            return False
        cr.execute("SELECT sequence, signed_at FROM audit_checkpoint WHERE sequence >= %s",
                   [anchor_sequence])
        floor = min(proofs.floors(config.get("audit_retention_floor_days")).values())
        return proofs.purge_problem(anchor_sequence, row[0], cr.fetchall(), floor) is None

    def action_verify_chain(self):
        """The Verify Chain button (with or without selected events: the whole
        chain is verified) and menu."""
        self.check_access("read")
        result = self.sudo()._verify_and_alert()  # sudo: the chain is checked whole
        if result:
            message = self.env._(
                "The audit chain is broken at sequence %(sequence)s (%(reason)s).", **result)
            kind = "danger"
        else:
            message = self.env._("The audit chain verifies.")
            kind = "success"
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"message": message, "type": kind, "sticky": bool(result)}}

    @api.model
    def _verify_and_alert(self, incremental=False):
        # verify everything recorded up to now; each batch sealed and committed
        # on its own, so that the chain is not held while the whole of it is
        # verified (a weakening waits for its event to be sealed)
        while True:
            with independent_cursor(self.env) as cr:
                if cr is None:
                    break
                if not self.with_env(self.env(cr=cr))._seal():
                    break
        head = self._chain_state("last_sequence")
        try:
            with self.env.cr.savepoint():
                result = self._verify_incremental() if incremental else self._verify()
        except psycopg2.Error as exc:
            # a value the checks cannot even read (a hash that is not hex...):
            # as broken as a wrong one, and alerted, never a crash of the job
            _logger.error("audit chain verification failed: %s", exc)
            result = {"sequence": 0, "reason": "unreadable values in the chain"}
        if not result:
            self._verified(head)
        if result:
            self.env["audit.alert"].raise_alert(
                "chain_broken",
                self.env._("Audit chain verification failed"),
                self.env._("The first broken or missing event is sequence %(sequence)s "
                           "(%(reason)s).", **result),
                severity="critical", key=str(result["sequence"]))
        return result

    @api.model
    def _cron_verify(self):
        # a checkpoint of what is about to be verified, then the events since
        # the last verified one; a full verification is one click away
        Checkpoint = self.env["audit.checkpoint"]
        if Checkpoint._private_key():
            Checkpoint._publish_pending()  # what an earlier run could not publish
            self._seal()
            Checkpoint._checkpoint_head()  # published once committed
        self._verify_and_alert(incremental=True)

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------
    @api.model
    def _retention_cutoffs(self, with_days=False):
        from .audit_retention import retention_floor  # noqa: PLC0415 (imports this module)
        now = datetime.utcnow().replace(microsecond=0)
        # never shorter than the floor, whatever the table says (a period set
        # in SQL, an old value)
        cutoffs = {}
        # the policy as its signed records say, when they do: a period
        # lowered in SQL, behind Odoo's back, is not applied (and is alerted)
        signed = self._signed_policies()
        # sudo: the policy applies whoever runs the purge
        for policy in self.env["audit.retention"].sudo().search([]):
            days = signed.get(policy.category, policy.days)
            if days != policy.days:
                self.env["audit.alert"].raise_alert(
                    "retention_policy_altered",
                    self.env._("A retention period was changed outside Odoo"),
                    self.env._("The retention of %(category)s events reads %(table)s days, but "
                               "the last change made in Odoo set %(days)s days: that one "
                               "applies.", category=policy.category, table=policy.days,
                               days=days),
                    severity="critical", key=policy.category, dedupe_minutes=24 * 60)
            if not days:
                continue  # kept forever
            days = max(days, retention_floor(policy.category))
            cutoffs[policy.category] = (now - timedelta(days=days), days)
        if with_days:
            return cutoffs
        return {category: cutoff for category, (cutoff, _days) in cutoffs.items()}

    @api.model
    def _signed_record(self, details):
        """A retention record's details, signed with the checkpoint key when
        the server has one (lib/proofs.py: a record planted in SQL then
        vouches for nothing)."""
        key = self.env["audit.checkpoint"]._private_key()
        if not key:
            return details
        return dict(details, signature=chain.sign(key, proofs.record_payload(details)))

    @api.model
    def _signed_policies(self):
        """{category: days} of the last retention policy record of each
        category that vouches (signed, when the server has the key)."""
        trusted = self._trusted_records(POLICY_ACTION)
        self.env.cr.execute(SQL(
            "SELECT DISTINCT ON (details::jsonb ->> 'category') details::jsonb ->> 'category',"
            " (details::jsonb ->> 'days')::int FROM audit_event"
            " WHERE action = %s AND sequence = ANY(%s::bigint[])"
            " ORDER BY details::jsonb ->> 'category', sequence DESC", POLICY_ACTION, trusted))
        return dict(self.env.cr.fetchall())

    @api.model
    def _trusted_records(self, action):
        """The sequences of the sealed records of `action` that vouch (lib/proofs.py)."""
        key = self.env["audit.checkpoint"]._private_key()
        self.env.cr.execute(SQL(proofs.RECORDS_SQL, action=action))
        return proofs.trusted_records(self.env.cr.fetchall(),
                                      chain.public_key_pem(key) if key else None)

    @api.model
    def _purge_expired(self, limit=CHUNK):
        """One chunk of retention work; returns how much is left.
        Expired sealed events are first redacted (content gone, digest kept,
        so the chain verifies); the fully redacted prefix is then deleted and
        the anchor moved past it, recorded by a chained purge event."""
        cr = self.env.cr
        done = 0
        for category, (cutoff, days) in self._retention_cutoffs(with_days=True).items():
            cr.execute(SQL("""
                UPDATE audit_event SET redacted = true, action = NULL, outcome = NULL, uid = NULL,
                       login = NULL, ip = NULL, user_agent = NULL, model = NULL, res_id = NULL,
                       res_name = NULL, changes = NULL, details = NULL, request_path = NULL
                 WHERE id IN (SELECT id FROM audit_event
                               WHERE category = %s AND event_time < %s AND NOT coalesce(redacted, false)
                                 AND sequence IS NOT NULL AND action NOT IN %s
                               ORDER BY sequence LIMIT %s)
             RETURNING sequence
            """, category, cutoff, KEPT_ACTIONS, limit - done))
            sequences = [row[0] for row in cr.fetchall()]
            if sequences:
                # chained with them: the redaction was due, under this policy
                self.log("security_event", REDACT_ACTION, user=self.env.ref("base.user_root"),
                         details=self._signed_record({
                             "category": category, "cutoff": cutoff.isoformat(), "days": days,
                             "first": min(sequences), "last": max(sequences),
                             "count": len(sequences)}),
                         immediate=False)
                self._seal(wait=True)
            done += len(sequences)
            if done >= limit:
                break
        if done < limit:
            done += self._delete_redacted_prefix(limit - done)
        self.invalidate_model()
        return done

    @api.model
    def _delete_redacted_prefix(self, limit):
        """Delete the oldest run of redacted events and move the anchor past it.
        Purge events (never redacted) may sit in that run; the newest one stays
        unless the run goes beyond it, so each purge is recorded by a later one."""
        cr = self.env.cr
        cr.execute("SELECT anchor_sequence FROM audit_chain_state WHERE id = 1 FOR UPDATE")
        anchor = cr.fetchone()[0]
        cr.execute(SQL("""
            SELECT (SELECT coalesce(min(sequence), (SELECT max(sequence) + 1 FROM audit_event)) - 1
                      FROM audit_event
                     WHERE sequence IS NOT NULL AND NOT coalesce(redacted, false)
                       AND action NOT IN %(kept)s),
                   (SELECT max(sequence) FROM audit_event WHERE action = %(purge)s)
        """, purge=PURGE_ACTION, kept=KEPT_ACTIONS))
        prefix_end, latest_purge = cr.fetchone()
        if prefix_end is not None and prefix_end == latest_purge:
            prefix_end -= 1
        if prefix_end is None or prefix_end <= anchor:
            return 0
        new_anchor = min(prefix_end, anchor + limit)
        cr.execute("SELECT hash FROM audit_event WHERE sequence = %s", [new_anchor])
        anchor_hash = cr.fetchone()[0]
        cr.execute("DELETE FROM audit_event WHERE sequence > %s AND sequence <= %s",
                   [anchor, new_anchor])
        deleted = cr.rowcount
        cr.execute("UPDATE audit_chain_state SET anchor_sequence = %s, anchor_hash = %s WHERE id = 1",
                   [new_anchor, anchor_hash])
        # the purge itself is chained: the anchor cannot move without a trace
        self.log("security_event", PURGE_ACTION, user=self.env.ref("base.user_root"),
                 details=self._signed_record({"anchor_sequence": str(new_anchor),
                                              "anchor_hash": anchor_hash, "deleted": deleted}),
                 immediate=False)
        self._seal()
        return deleted

    @api.model
    def _cron_retention(self):
        done = self._purge_expired()
        self.env["ir.cron"]._notify_progress(done=done, remaining=CHUNK if done >= CHUNK else 0)

    # ------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------
    def _export_row(self):
        """The JSON-able form of an event (SIEM export)."""
        self.ensure_one()
        return {
            "sequence": self.sequence, "time": self.event_time and self.event_time.isoformat() + "Z",
            "category": self.category, "action": self.action, "outcome": self.outcome,
            "user_id": self.uid or None, "login": self.login, "ip": self.ip,
            "user_agent": self.user_agent, "model": self.model, "res_id": self.res_id or None,
            "res_name": self.res_name,
            "changes": json.loads(self.changes) if self.changes else None,
            "details": json.loads(self.details) if self.details else None,
            "request_path": self.request_path, "content_digest": self.content_digest,
            "company_id": self.cid or None, "record_company_id": self.record_cid or None,
            "hash": self.hash, "prev_hash": self.prev_hash, "redacted": self.redacted,
        }
