import json
from datetime import date, datetime

from odoo import api, models

from ..lib.scrub import FILTERED, is_secret_name

TEXT_LIMIT = 2000


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
    Models) become resource_change events, sent with the transaction's next
    statement (see audit.event._buffer)."""
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
        cache, size = self.env.cache, len(self)
        missing = [field for field in fields_ if field.store and field.type != "binary"
                   and not is_secret_name(field.name)
                   and len(cache.get_until_miss(self, field)) != size]
        columns = [field.name for field in missing if field.column_type]
        if columns:
            # sudo: the values only go to the audit trail and write() checks the
            # access; fetch's record-rule check costs more than its query here
            self.sudo().fetch(columns)
        if len(columns) != len(missing):
            # x2many as the user: the cache is shared, and a write's set/clear
            # commands must not see (so remove) links the user cannot read
            self.fetch([field.name for field in missing if not field.column_type])
        snapshot = {rid: {} for rid in self._ids}
        for field in fields_:
            if is_secret_name(field.name):
                values = [FILTERED] * size
            elif field.type == "binary":
                values = ["<binary>"] * size  # never the content
            else:
                values = cache.get_until_miss(self, field) if field.store else []
                if len(values) != size:
                    values = [record[field.name] for record in self]
                values = [_plain(value, field) for value in values]
            for rid, value in zip(self._ids, values, strict=True):
                snapshot[rid][field.name] = value
        if self._name == "ir.config_parameter" and any(f.name == "value" for f in fields_):
            for record in self:  # system parameters hold secrets under their key
                if is_secret_name(record.key.rsplit(".", 1)[-1]):
                    snapshot[record.id]["value"] = FILTERED
        return snapshot

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
