import json
from datetime import date, datetime

from odoo import api, models

from ..lib.scrub import FILTERED, is_secret_name

TEXT_LIMIT = 2000


def _value(field, value):
    """A JSON-able, secret-free form of a field value for the audit log."""
    if field.type == "many2one":
        return value.id or None
    if field.type in ("one2many", "many2many"):
        return sorted(value.ids)
    if field.type == "binary":
        return "<binary>" if value else None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str) and len(value) > TEXT_LIMIT:
        return value[:TEXT_LIMIT] + "…"
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

    def _audit_secret(self, record, field):
        if is_secret_name(field.name):
            return True
        # system parameters hold secrets under a name, not a field
        return self._name == "ir.config_parameter" and field.name == "value" \
            and is_secret_name(record.key.rsplit(".", 1)[-1])

    def _audit_snapshot(self, fields_):
        return {record.id: {f.name: FILTERED if self._audit_secret(record, f)
                            else _value(f, record[f.name]) for f in fields_}
                for record in self}

    def _audit_record(self, action, changes_by_id, names=None):
        context = self.env["audit.event"]._request_context()
        now = datetime.utcnow()
        uid = self.env.uid
        login = self.env.user.sudo().login
        rows = []
        for record_id, changes in changes_by_id.items():
            rows.append({
                "event_time": now, "category": "resource_change", "action": action,
                "outcome": "success", "uid": uid, "login": login, **context,
                "model": self._name, "res_id": record_id,
                "res_name": (names or {}).get(record_id),
                "changes": changes and json.dumps(changes, sort_keys=True, default=str),
                "details": None,
            })
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
