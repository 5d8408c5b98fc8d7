from odoo import api, models
from odoo.exceptions import AccessError

from .. import actor
from ..surfaces import technical_reason
from .res_users_apikeys import read_only_key_in_use

# Core credentials whose models this addon does not depend on: field naming their user.
CREDENTIAL_MODELS = {
    "auth_totp.device": "user_id",
    "auth.passkey.key": "create_uid",
    "res.device.log": "user_id",
    # where a user's notifications are pushed (their content with them)
    "mail.push.device": "partner_id.user_ids",
}
OPERATION_LABELS = {"create": "create", "write": "change", "unlink": "delete"}
_UNCLASSIFIED = object()


def _refuse_read_only_key(model, operation):
    raise AccessError(model.env._(
        "This API key is read-only: it cannot %(operation)s %(model)s records. "
        "Use an API key with full access for integrations that write.",
        operation=OPERATION_LABELS[operation], model=model._description or model._name))


class Base(models.AbstractModel):
    """The suite's server-side guards on every create, write and unlink of every
    model, sudo() included, decided by the principal (see ..actor), never by
    env.uid or the context:

    - read-scoped API keys write nothing;
    - technical surfaces (..surfaces) are the Owner's, or a technical-access
      Admin's;
    - credentials (models whose `_security_credential_owner` names their user)
      change only by their user or someone holding every group the user holds;
    - a Viewer changes nothing others see (`_security_viewer_allowed`).
    """
    _inherit = "base"

    # field naming the user whose credential a record is (API keys, devices,
    # passkeys, recovery codes...), or False
    _security_credential_owner = False
    # records Odoo writes for itself on a user's behalf (logs, caches, throttles)
    _security_bookkeeping = False
    # records whose content stays within a team (embargoed reports and
    # advisories): what the suite records about them elsewhere (the audit
    # trail) carries which fields changed, never their values. Code, not data:
    # no Admin can switch it off.
    _security_confidential = False
    # What can lose or weaken a protection (backups, retention, audited
    # models): only the Owner (or a technical-access Admin, or server code)
    # changes these fields, creates (`_security_owner_create`) or deletes
    # (`_security_owner_unlink`) the records `_security_owner_protected`
    # returns. A change `_security_owner_change_is_safe` calls safe (a longer
    # retention, a protection switched on) stays open to the model's users.
    # When the Owner weakens one, `_security_record_weakening` reports it.
    _security_owner_fields = frozenset()
    _security_owner_create = False
    _security_owner_unlink = False

    @api.model_create_multi
    def create(self, vals_list):
        if vals_list:
            self._security_guard("create", vals_list=vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if self:
            self._security_guard("write", vals=vals)
        return super().write(vals)

    def unlink(self):
        if self:
            self._security_guard("unlink")
        return super().unlink()

    # ------------------------------------------------------------------
    def _security_guard(self, operation, vals=None, vals_list=None):
        if read_only_key_in_use():
            _refuse_read_only_key(self, operation)
        reason = self._security_technical_reason()
        if reason:
            self._security_check_technical(operation, reason, vals=vals, vals_list=vals_list)
        if self._security_credential_field():
            self._security_check_credential_records(operation, vals_list)
        if self._security_owner_fields or self._security_owner_create \
                or self._security_owner_unlink:
            self._security_check_owner_fields(operation, vals=vals, vals_list=vals_list)
        principal = actor.principal_uid()
        if principal and self.env["res.users"]._security_principal_role() == "viewer":
            self._security_check_viewer(operation, principal, vals=vals, vals_list=vals_list)

    @api.model
    def _security_technical_reason(self):
        """Why this model is a technical surface, or None; computed once per
        model class (classes are rebuilt whenever the registry changes)."""
        cls = type(self)
        reason = cls.__dict__.get("_security_surface", _UNCLASSIFIED)
        if reason is _UNCLASSIFIED:
            reason = technical_reason(self._name, [
                (f.name, f.type, f.comodel_name) for f in self._fields.values()])
            cls._security_surface = reason
        return reason

    def _security_check_technical(self, operation, reason, vals=None, vals_list=None):
        Users = self.env["res.users"]
        if Users._security_technical_actor(use=(self._name, operation)):
            return
        if Users._security_settings_apply_allows(self._name):
            return
        self._security_refuse(operation, self.env._(
            "Only the Owner can %(operation)s %(model)s records (%(reason)s). Ask the Owner to "
            "do it, or to grant you technical access for a while.",
            operation=OPERATION_LABELS[operation], model=self._description or self._name,
            reason=reason))

    @api.model
    def _security_credential_field(self):
        return self._security_credential_owner or CREDENTIAL_MODELS.get(self._name)

    def _security_check_credential_records(self, operation, vals_list):
        field = self._security_credential_field()
        if operation == "create" and "." in field:  # through a partner: its users
            first, rest = field.split(".", 1)
            uids = set()
            for vals in vals_list:
                # sudo: whose partner it is decides, whoever may read users
                uids.update(self.env[self._fields[first].comodel_name].sudo().browse(
                    vals.get(first) or self.env.user.partner_id.id).mapped(f"{rest}.id"))
        elif operation == "create":
            uids = {vals.get(field) or self.env.uid for vals in vals_list}
        else:
            # sudo: whose credential it is decides, whoever may read it
            uids = set(self.sudo().mapped(f"{field}.id"))
        self.env["res.users"].browse(uids)._security_check_credential_change(
            self._description or self._name)

    # ------------------------------------------------------------------
    # Owner's fields: what can lose or weaken a protection
    # ------------------------------------------------------------------
    def _security_owner_protected(self):
        """The records of self whose owner fields are guarded (all by default)."""
        return self

    def _security_owner_change_is_safe(self, fname, old, new):
        """Whether changing `fname` from `old` to `new` weakens nothing."""
        return False

    def _security_weakening(self, operation, vals=None, vals_list=None):
        """[(record or model, field or None)] of what this operation weakens."""
        if operation == "create":
            return [(self, None)] if self._security_owner_create else []
        protected = self._security_owner_protected()
        if operation == "unlink":
            return [(record, None) for record in protected] if self._security_owner_unlink \
                else []
        weakened = []
        names = [name for name in vals if name in self._security_owner_fields]
        for record in protected.sudo():  # sudo: compares values, returns none
            for name in names:
                field = self._fields[name]
                old = field.convert_to_write(record[name], record)
                new = field.convert_to_write(field.convert_to_cache(vals[name], record), record)
                if (old or False) != (new or False) and \
                        not record._security_owner_change_is_safe(name, old, new):
                    weakened.append((record.sudo(False), name))
        return weakened

    def _security_check_owner_fields(self, operation, vals=None, vals_list=None):
        if actor.is_server(self.env):
            return
        weakened = self._security_weakening(operation, vals=vals, vals_list=vals_list)
        if not weakened:
            return
        Users = self.env["res.users"]
        if not Users._security_technical_actor(use=(self._name, operation)):
            what = sorted({self._fields[name].string for _record, name in weakened if name})
            self._security_refuse(operation, self.env._(
                "Only the Owner can %(operation)s %(model)s records in a way that can lose or "
                "weaken a protection%(fields)s. Ask the Owner to do it.",
                operation=OPERATION_LABELS[operation], model=self._description or self._name,
                fields=(": " + ", ".join(what)) if what else ""))
        self._security_record_weakening(operation, weakened, vals=vals)

    def _security_record_weakening(self, operation, weakened, vals=None):
        """The Owner (or a technical-access Admin) weakens a protection: the audit
        trail, when installed, records it sealed before the change and alerts."""
        if "audit.event" in self.env:
            self.env["audit.event"]._log_weakening(self, operation, weakened)

    def _security_check_viewer(self, operation, principal, vals=None, vals_list=None):
        if not self._security_viewer_allowed(operation, principal, vals=vals,
                                             vals_list=vals_list):
            self._security_refuse(operation, self.env._(
                "Viewers cannot %(operation)s %(model)s records: a Viewer changes nothing "
                "that others see.",
                operation=OPERATION_LABELS[operation], model=self._description or self._name))

    def _security_viewer_allowed(self, operation, principal, vals=None, vals_list=None):
        """What a Viewer's request may still write, sudo routes included: personal
        wizards, Odoo's bookkeeping, and records that are the Viewer's own.
        Models extend this for their own personal records."""
        if self._transient or self._security_bookkeeping:
            return True
        owner_field = self._security_credential_field()
        if owner_field:  # own credentials (API keys, devices, 2FA)
            if operation == "create":
                return all((vals.get(owner_field) or principal) == principal for vals in vals_list)
            return set(self.sudo().mapped(f"{owner_field}.id")) <= {principal}
        return False

    def _security_refuse(self, operation, message):
        """Refuse, with an audit event when the audit trail is installed."""
        if "audit.event" in self.env:
            principal = actor.acting_uid(self.env)
            # sudo: a refusal is recorded whoever was refused
            self.env["audit.event"].sudo().log(
                "authorization", "access_denied", outcome="denied", model=self._name,
                res_id=self[:1].id or None,
                user=self.env["res.users"].browse(principal) if principal else None,
                details={"operation": operation, "by": "security_roles",
                         "records": self.ids[:20]})
        raise AccessError(message)
