import contextlib
import contextvars

from odoo import api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from ..roles import ROLE_ORDER, ROLE_XMLIDS

# Set only by the ownership transfer and the install hook, never from a
# request: a context key could be sent over RPC, a context variable cannot.
_OWNER_CHANGE = contextvars.ContextVar("security_roles_owner_change", default=False)


@contextlib.contextmanager
def owner_change_allowed():
    token = _OWNER_CHANGE.set(True)
    try:
        yield
    finally:
        _OWNER_CHANGE.reset(token)


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model_create_multi
    def create(self, vals_list):
        if not any("users" in vals or "implied_ids" in vals for vals in vals_list):
            return super().create(vals_list)
        before = self._security_owner_ids()
        groups = super().create(vals_list)
        self._security_check_owner_unchanged(before)
        return groups

    def write(self, vals):
        if "users" not in vals and "implied_ids" not in vals:
            return super().write(vals)
        before = self._security_owner_ids()
        res = super().write(vals)
        self._security_check_owner_unchanged(before)
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_role_group(self):
        if self & self._security_role_groups_all():
            raise AccessError(self.env._("The workspace role groups cannot be deleted."))

    # ------------------------------------------------------------------
    # Roles
    # ------------------------------------------------------------------
    @api.model
    def _security_role_groups(self):
        """{role: group} for the four workspace roles (sudo: group ids are not secret)."""
        return {
            role: self.env.ref(ROLE_XMLIDS[role], raise_if_not_found=False)
            for role in ROLE_ORDER
        }

    @api.model
    def _security_role_groups_all(self):
        groups = self.browse()
        for group in self._security_role_groups().values():
            groups |= group or self.browse()
        return groups

    @api.model
    def _security_owner_ids(self):
        owner = self.env.ref(ROLE_XMLIDS["owner"], raise_if_not_found=False)
        if not owner:
            return frozenset()
        self.env.flush_all()
        rows = self.env.execute_query(SQL(
            "SELECT uid FROM res_groups_users_rel WHERE gid = %s", owner.id))
        return frozenset(uid for uid, in rows)

    @api.model
    def _security_uninstalling(self):
        # the context flag alone could be sent by any RPC caller
        return bool(self.env.context.get(MODULE_UNINSTALL_FLAG)) and bool(
            # sudo: the module's state is not the caller's to read or choose
            self.env["ir.module.module"].sudo().search_count(
                [("name", "=", "security_roles"), ("state", "=", "to remove")]))

    @api.model
    def _security_check_owner_unchanged(self, before):
        """Membership of Owner changes only through the ownership transfer:
        whoever asks, superuser included, and whatever the path (user form,
        groups, implied groups, import, RPC)."""
        if _OWNER_CHANGE.get() or self._security_uninstalling():
            return
        if self._security_owner_ids() != before:
            raise AccessError(self.env._(
                "The Owner role cannot be granted or removed this way. The Owner hands "
                "ownership over to an active Admin with Security > Users > Transfer Ownership."))
