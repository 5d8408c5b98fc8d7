import json
from datetime import date, datetime

from odoo import api, models
from odoo.tools import SQL

from ..lib.scrub import FILTERED, is_secret_name

TEXT_LIMIT = 2000
# writes in progress whose old values PostgreSQL still holds (see write())
PENDING_KEY = "audit_trail.pending_writes"
# field types whose stored value PostgreSQL renders the way _plain() does
SQL_DIFF_TYPES = frozenset({"char", "text", "html", "selection", "integer", "float", "boolean",
                            "date", "datetime", "many2one", "reference",
                            "many2one_reference"})


class _PendingWrite:
    """A write of plain columns whose UPDATE has not run yet."""
    __slots__ = ("fnames", "ids", "model", "old")

    def __init__(self, model, ids, fnames):
        self.model, self.ids, self.fnames, self.old = model, ids, fnames, None


def _plain(value, field):
    """A JSON-able form of a cached field value (ids for relations)."""
    if isinstance(value, models.BaseModel):  # read through the record
        return value.id or None if field.type == "many2one" else sorted(value.ids)
    if isinstance(value, tuple):
        return sorted(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        value = str(value)  # Markup -> str
        return value[:TEXT_LIMIT] + "…" if len(value) > TEXT_LIMIT else value
    if value is False and field.type != "boolean":
        return None  # an empty value, as PostgreSQL stores it
    return value


class Base(models.AbstractModel):
    """create/write/unlink of the audited models (Security > Audit > Audited
    Models) become resource_change events, buffered and inserted in one
    statement when the transaction commits."""
    _inherit = "base"

    def _audit_flags(self):
        if self._transient or self._abstract:
            return None
        return self.env["audit.rule"]._rules_by_model().get(self._name)

    def _audit_fields(self, fnames):
        fields_ = self._fields
        # stored values, and secrets (passwords, TOTP secrets) as a bare "changed"
        return [fields_[f] for f in fnames if f in fields_ and (
            fields_[f].store or fields_[f].type == "many2many" or is_secret_name(f))]

    def _audit_snapshot(self, fields_):
        """{id: {field: value}} read from the cache (one query for what is missing)."""
        snapshot = {rid: {} for rid in self._ids}
        readable = [f.name for f in fields_ if f.store and f.type != "binary"
                    and not is_secret_name(f.name)]
        if readable:
            self.fetch(readable)
        cache = self.env.cache
        for field in fields_:
            if is_secret_name(field.name):
                values = [FILTERED] * len(self)
            elif field.type == "binary":
                values = ["<binary>"] * len(self)  # never the content
            else:
                values = cache.get_until_miss(self, field) if field.store else []
                if len(values) != len(self):
                    values = [record[field.name] for record in self]
                values = [_plain(value, field) for value in values]
            for rid, value in zip(self._ids, values, strict=True):
                snapshot[rid][field.name] = value
        if self._name == "ir.config_parameter" and any(f.name == "value" for f in fields_):
            for record in self:  # system parameters hold secrets under their key
                if is_secret_name(record.key.rsplit(".", 1)[-1]):
                    snapshot[record.id]["value"] = FILTERED
        return snapshot

    # ------------------------------------------------------------------
    # Writes of plain columns: one statement, no read of the old values
    # ------------------------------------------------------------------
    def _audit_sql_diffable(self, fields_):
        return self._name != "ir.config_parameter" and all(
            field.type in SQL_DIFF_TYPES and field.store and field.column_type
            and not field.company_dependent and not is_secret_name(field.name)
            for field in fields_)

    def _audit_old_sql(self, field):
        """SQL (jsonb): the stored value of `field` in row "t", as _plain() gives it."""
        column = SQL('"t".%s', SQL.identifier(field.name))
        if field.translate:
            column = SQL("COALESCE(%s->>%s, %s->>'en_US')", column, self.env.lang or "en_US",
                         column)
        if field.type == "boolean":
            column = SQL("COALESCE(%s, false)", column)
        elif field.type in ("integer", "float"):
            column = SQL("COALESCE(%s, 0)", column)
        elif field.type in ("char", "text", "html", "selection", "reference"):
            column = SQL("CASE WHEN length(%s) > %s THEN left(%s, %s) || '…' ELSE %s END",
                         column, TEXT_LIMIT, column, TEXT_LIMIT, column)
        return SQL("COALESCE(to_jsonb(%s), 'null'::jsonb)", column)

    def _audit_read_old(self, fnames):
        """{id: {field: old value}} read from the rows, before their UPDATE."""
        fields_ = [self._fields[f] for f in fnames]
        self.env.cr.execute(SQL(
            "SELECT t.id, jsonb_build_object(%s) FROM %s t WHERE t.id = ANY(%s)",
            SQL(", ").join(SQL("%s, %s", f.name, self._audit_old_sql(f)) for f in fields_),
            SQL.identifier(self._table), list(self._ids)))
        return dict(self.env.cr.fetchall())

    def _audit_insert_write(self, fields_, new):
        """The write events of records whose rows still hold the old values: one
        INSERT that compares them with the new values (the same for every
        record of a write) and keeps the changed fields only."""
        Event = self.env["audit.event"]
        Event._flush_buffer()  # events keep their order
        context = Event._request_context()
        changes = SQL(", ").join(SQL(
            "%(name)s, CASE WHEN %(old)s IS DISTINCT FROM %(new)s::jsonb"
            " THEN jsonb_build_array(%(old)s, %(new)s::jsonb) END",
            name=field.name, old=self._audit_old_sql(field),
            new=json.dumps(new[field.name], default=str)) for field in fields_)
        self.env.cr.execute(SQL("""
            INSERT INTO audit_event (event_time, category, action, outcome, uid, ip, user_agent,
                                     request_path, model, res_id, changes)
            SELECT %(now)s, 'resource_change', 'write', 'success', %(uid)s, %(ip)s, %(ua)s,
                   %(path)s, %(model)s, c.id, c.changes::text
              FROM (SELECT t.id, jsonb_strip_nulls(jsonb_build_object(%(changes)s)) AS changes
                      FROM %(table)s t WHERE t.id = ANY(%(ids)s)) c
             WHERE c.changes <> '{}'::jsonb ORDER BY c.id
        """, now=datetime.utcnow(), uid=self.env.uid, ip=context["ip"], ua=context["user_agent"],
            path=context["request_path"], model=self._name, changes=changes,
            table=SQL.identifier(self._table), ids=list(self._ids)))

    def _write_multi(self, vals_list):
        # an UPDATE is about to overwrite rows an audited write() has not
        # recorded yet (something flushed during that write): read their old
        # values now, while the rows still hold them
        pending = self.env.cr.precommit.data.get(PENDING_KEY)
        if pending:
            ids = set(self._ids)
            written = {f for vals in vals_list for f in vals}
            for entry in pending:
                if entry.old is None and entry.model == self._name \
                        and not ids.isdisjoint(entry.ids) and written.intersection(entry.fnames):
                    entry.old = self.browse(entry.ids)._audit_read_old(entry.fnames)
        return super()._write_multi(vals_list)

    def _audit_record(self, action, changes_by_id, names=None):
        context = self.env["audit.event"]._request_context()
        now = datetime.utcnow()
        uid, model, names = self.env.uid, self._name, names or {}
        rows = [{
            "event_time": now, "category": "resource_change", "action": action,
            "outcome": "success", "uid": uid, **context,  # login: filled from uid on insert
            "model": model, "res_id": record_id, "res_name": names.get(record_id),
            "changes": json.dumps(changes, sort_keys=True, default=str) if changes else None,
        } for record_id, changes in changes_by_id.items()]
        if rows:
            self.env["audit.event"]._buffer(rows)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        flags = records._audit_flags() if records else None
        if flags and flags[0]:
            fnames = {f for vals in vals_list for f in vals}
            snapshot = records._audit_snapshot(records._audit_fields(fnames))
            records._audit_record("create", {rid: {f: [None, v] for f, v in values.items()}
                                             for rid, values in snapshot.items()})
        return records

    def write(self, vals):
        flags = self._audit_flags() if self else None
        if not (flags and flags[1]):
            return super().write(vals)
        fields_ = self._audit_fields(vals)
        if not fields_:
            return super().write(vals)
        if self._audit_sql_diffable(fields_) and all(self._ids) \
                and not self.env.cache.has_dirty_fields(self, fields_):
            # The rows hold the old values until the UPDATE, which Odoo defers
            # to the next flush: compare them with the new ones in one INSERT,
            # rather than reading them first. If something flushes during the
            # write, _write_multi reads them just before its UPDATE.
            entry = _PendingWrite(self._name, self._ids, [f.name for f in fields_])
            pending = self.env.cr.precommit.data.setdefault(PENDING_KEY, [])
            pending.append(entry)
            try:
                res = super().write(vals)
            finally:
                pending.remove(entry)
            after = self._audit_snapshot(fields_)  # the cache holds the new values
            values = list(after.values())
            if entry.old is None and all(v == values[0] for v in values):
                self._audit_insert_write(fields_, values[0])
            else:
                if entry.old is None:  # new values differ per record: read the old ones
                    entry.old = self._audit_read_old(entry.fnames)
                self._audit_record("write", {
                    rid: diff for rid, diff in (
                        (rid, {f: [old[f], after[rid][f]] for f in entry.fnames
                               if old[f] != after[rid][f]})
                        for rid, old in entry.old.items()) if diff})
            return res
        before = self._audit_snapshot(fields_)
        res = super().write(vals)
        after = self._audit_snapshot(fields_)
        changes = {}
        for rid, old in before.items():
            diff = {f: [v, after[rid][f]] for f, v in old.items()
                    if v != after[rid][f] or v == FILTERED}
            if diff:
                changes[rid] = diff
        self._audit_record("write", changes)
        return res

    def unlink(self):
        flags = self._audit_flags() if self else None
        if not (flags and flags[2]):
            return super().unlink()
        names = {record.id: record.display_name for record in self}
        res = super().unlink()
        self._audit_record("unlink", {rid: None for rid in names}, names)
        return res
