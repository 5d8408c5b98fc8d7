import json
from datetime import date, datetime

from odoo import api, models
from odoo.tools import SQL

from ..lib.scrub import FILTERED, is_secret_name

TEXT_LIMIT = 2000
# what an event about a confidential record (or a field readable by a few
# groups only) keeps of a value: the fact that it changed
WITHHELD = "[Withheld]"
# fields through which a record belongs to another one (messages, attachments,
# followers, activities: model + res_id)
MODEL_NAME_FIELDS = ("model", "res_model")
ADMIN_GROUP = "security_roles.group_role_admin"
# models that carry other records' content on its way (notifications, pushes,
# previews, translations): their events never hold values
CARRIER_MODELS = frozenset({"bus.bus", "mail.push", "mail.link.preview",
                            "mail.message.translation"})


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


def _belongs_to(fields_, confidential):
    """(many2one fields to a confidential model, fields naming the model of the
    record this one belongs to: model/res_model beside res_id)."""
    direct = [f.name for f in fields_.values()
              if f.type == "many2one" and f.comodel_name in confidential]
    named = [name for name in MODEL_NAME_FIELDS if name in fields_ and "res_id" in fields_
             and fields_[name].type in ("char", "selection")] if confidential else []
    return direct, named


class Base(models.AbstractModel):
    """create/write/unlink of the audited models (Security > Audit > Audited
    Models) become resource_change events, sent with the transaction's next
    statement (see audit.event._buffer)."""
    _inherit = "base"

    def _audit_flags(self):
        if self._transient or self._abstract:
            return None
        return self.env["audit.rule"]._rules_by_model().get(self._name)

    # ------------------------------------------------------------------
    # Confidentiality: what the events of a record may hold
    # ------------------------------------------------------------------
    @api.model
    def _audit_confidential_models(self):
        registry = self.env.registry
        cached = registry.__dict__.get("_audit_confidential_models")
        if cached is None:
            cached = frozenset(name for name, cls in registry.items()
                               if getattr(cls, "_security_confidential", False))
            if registry.ready:  # not while modules load: more models may come
                registry._audit_confidential_models = cached
        return cached

    @api.model
    def _audit_confidential_paths(self):
        """How a record of this model can belong to a confidential record:
        (many2one fields to a confidential model, fields naming the model of
        the record it belongs to, many2one fields to a model that has such
        paths itself: a tracking value of a message, a notification). Computed
        once per model class (classes are rebuilt with the registry)."""
        cls = type(self)
        paths = cls.__dict__.get("_audit_paths")
        if paths is None:
            confidential = self._audit_confidential_models()
            direct, named, indirect = [], [], []
            if confidential:
                direct, named = _belongs_to(self._fields, confidential)
                for field in self._fields.values():
                    if field.type == "many2one" and field.comodel_name not in confidential \
                            and any(_belongs_to(self.env[field.comodel_name]._fields,
                                                confidential)):
                        indirect.append(field.name)
            paths = (tuple(direct), tuple(named), tuple(indirect))
            if self.env.registry.ready:
                cls._audit_paths = paths
        return paths

    def _audit_confidential_ids(self, follow=True):
        """Ids of the records of self whose content the trail must not hold:
        confidential records, and records that belong to one (directly, or
        through one many2one when `follow`)."""
        if self._security_confidential:
            return set(self._ids)
        direct, named, indirect = self._audit_confidential_paths()
        if not follow:
            indirect = ()
        if not (direct or named or indirect):
            return set()
        confidential = self._audit_confidential_models()
        found = set()
        for record in self.sudo().exists():  # sudo: decides what to hide, shows nothing
            if any(record[name] for name in direct) or any(
                    record[name] in confidential for name in named) or any(
                    record[name]._audit_confidential_ids(follow=False) for name in indirect):
                found.add(record.id)
        return found

    @api.model
    def _audit_withheld_fields(self):
        """Fields an Admin cannot read (`groups` none of which an Admin holds;
        all of them on a model an Admin has no read access to, such as the bus
        carrying chatter messages): their events say that they changed, not to
        what. The trail is read by Admins."""
        cls = type(self)
        withheld = cls.__dict__.get("_audit_withheld")
        if withheld is None:
            if self._name in CARRIER_MODELS:
                withheld = cls._audit_withheld = frozenset(self._fields)
                return withheld
            admin = self.env.ref(ADMIN_GROUP, raise_if_not_found=False)
            held = set((admin.sudo().trans_implied_ids | admin).ids) if admin else set()
            self.env.cr.execute(SQL("""
                SELECT 1 FROM ir_model_access a JOIN ir_model m ON m.id = a.model_id
                 WHERE m.model = %s AND a.active AND a.perm_read
                   AND (a.group_id IS NULL OR a.group_id = ANY(%s)) LIMIT 1
            """, self._name, list(held)))
            if not self.env.cr.fetchone():
                withheld = frozenset(self._fields)
                if self.env.registry.ready:
                    cls._audit_withheld = withheld
                return withheld
            withheld = set()
            for field in self._fields.values():
                if not field.groups or field.groups == ".":
                    continue
                ids = set()
                for xmlid in field.groups.split(","):
                    group = self.env.ref(xmlid.strip().lstrip("!"), raise_if_not_found=False)
                    if group and not xmlid.strip().startswith("!"):
                        ids.add(group.id)
                if not ids & held:
                    withheld.add(field.name)
            withheld = frozenset(withheld)
            if self.env.registry.ready:
                cls._audit_withheld = withheld
        return withheld

    def _audit_withhold(self, changes_by_id, confidential_ids):
        """Values the trail keeps as the fact of a change only."""
        withheld = self._audit_withheld_fields()
        if not (confidential_ids or withheld):
            return changes_by_id
        for rid, changes in changes_by_id.items():
            if not changes:
                continue
            for name, values in changes.items():
                if rid in confidential_ids or name in withheld:
                    changes[name] = [None if v is None else WITHHELD for v in values]
        return changes_by_id

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

    def _audit_record_companies(self):
        """{id: company id or None} of the records (their company_id field)."""
        field = self._fields.get("company_id")
        if not (field and field.type == "many2one" and field.comodel_name == "res.company"):
            return {}
        # sudo: the company only labels the events of records the user changed
        return {record.id: record.company_id.id or None for record in self.sudo()}

    def _audit_record(self, action, changes_by_id, names=None, companies=None):
        if not changes_by_id:
            return
        Event = self.env["audit.event"]
        context = Event._request_context()
        now = datetime.utcnow()
        uid, model, names = self.env.uid, self._name, names or {}
        cid = Event._event_companies()["cid"]
        if companies is None:
            companies = self._audit_record_companies()
        rows = [{
            "event_time": now, "category": "resource_change", "action": action,
            "outcome": "success", "uid": uid, **context,  # login: filled from uid on insert
            "cid": cid, "record_cid": companies.get(record_id),
            "model": model, "res_id": record_id, "res_name": names.get(record_id),
            "changes": json.dumps(changes, sort_keys=True, default=str) if changes else None,
        } for record_id, changes in changes_by_id.items()]
        Event._buffer(rows)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        flags = records._audit_flags() if records else None
        if flags and flags[0]:
            fnames = {f for vals in vals_list for f in vals}
            snapshot = records._audit_snapshot(records._audit_fields(fnames))
            changes = {rid: {f: [None, v] for f, v in values.items()}
                       for rid, values in snapshot.items()}
            records._audit_record("create", records._audit_withhold(
                changes, records._audit_confidential_ids()))
        return records

    def write(self, vals):
        flags = self._audit_flags() if self else None
        if not (flags and flags[1]):
            return super().write(vals)
        fields_ = self._audit_fields(vals)
        if not fields_:
            return super().write(vals)
        before = self._audit_snapshot(fields_)
        confidential = self._audit_confidential_ids()
        res = super().write(vals)
        confidential |= self._audit_confidential_ids()  # moved in or out: both
        after = self._audit_snapshot(fields_)
        changes = {}
        for rid, old in before.items():
            diff = {f: [v, after[rid][f]] for f, v in old.items()
                    if v != after[rid][f] or v == FILTERED}
            if diff:
                changes[rid] = diff
        self._audit_record("write", self._audit_withhold(changes, confidential))
        return res

    def unlink(self):
        flags = self._audit_flags() if self else None
        if not (flags and flags[2]):
            return super().unlink()
        confidential = self._audit_confidential_ids()
        names = {record.id: None if record.id in confidential else record.display_name
                 for record in self}
        companies = self._audit_record_companies()
        res = super().unlink()
        self._audit_record("unlink", {rid: None for rid in names}, names, companies)
        return res
