import contextvars

from odoo import api, models, tools
from odoo.exceptions import AccessError
from odoo.tools import SQL

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from .. import actor
from ..roles import ROLE_ORDER, ROLE_XMLIDS

# Set only by the ownership transfer and the install hook, never from a
# request: a context key could be sent over RPC, a context variable cannot.
_OWNER_CHANGE = contextvars.ContextVar("security_roles_owner_change", default=False)


def owner_change_allowed():
    return actor.flag(_OWNER_CHANGE)


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model_create_multi
    def create(self, vals_list):
        if not any("users" in vals or "implied_ids" in vals for vals in vals_list):
            return super().create(vals_list)
        before = self._security_owner_memberships()
        groups = super().create(vals_list)
        self._security_check_owner_memberships(before)
        return groups

    def write(self, vals):
        if "users" not in vals and "implied_ids" not in vals:
            return super().write(vals)
        before = self._security_owner_memberships()
        res = super().write(vals)
        self._security_check_owner_memberships(before)
        return res

    def unlink(self):
        before = self._security_owner_memberships()
        res = super().unlink()
        self._security_check_owner_memberships(before)
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_role_group(self):
        if self & self._security_role_groups_all():
            raise AccessError(self.env._("The workspace role groups cannot be deleted."))

    # ------------------------------------------------------------------
    # Roles
    # ------------------------------------------------------------------
    def init(self):
        super().init()
        # The role groups are recognised by this column, which no ORM path
        # writes: an external ID can be re-pointed or deleted, this cannot.
        self.env.cr.execute(SQL(
            "ALTER TABLE res_groups ADD COLUMN IF NOT EXISTS security_role varchar;"
            " CREATE UNIQUE INDEX IF NOT EXISTS res_groups_security_role_uniq"
            " ON res_groups (security_role) WHERE security_role IS NOT NULL"))

    @api.model
    @tools.ormcache()
    def _security_role_group_ids(self):
        """{role: group id}. Each role is bound once, the first time its group
        exists (module install), from the external ID the module created; from
        then on only this column says which group is which role."""
        rows = dict(self.env.execute_query(SQL(
            "SELECT security_role, id FROM res_groups WHERE security_role IS NOT NULL")))
        for role in ROLE_ORDER:
            if role in rows:
                continue
            # sudo-free: ir.model.data of a module being installed, read once
            group = self.env.ref(ROLE_XMLIDS[role], raise_if_not_found=False)
            if group and group._name == "res.groups":
                self.env.cr.execute(SQL(
                    "UPDATE res_groups SET security_role = %s"
                    " WHERE id = %s AND security_role IS NULL", role, group.id))
                rows[role] = group.id
        return {role: rows[role] for role in ROLE_ORDER if role in rows}

    @api.model
    def _security_role_groups(self):
        """{role: group} for the four workspace roles (group ids are not secret)."""
        ids = self._security_role_group_ids()
        return {role: self.browse(ids[role]) if role in ids else False for role in ROLE_ORDER}

    @api.model
    def _security_role_groups_all(self):
        return self.browse(list(self._security_role_group_ids().values()))

    @api.model
    def _security_owner_ids(self):
        owner = self._security_role_group_ids().get("owner")
        if not owner:
            return frozenset()
        self.env.flush_all()
        rows = self.env.execute_query(SQL(
            "SELECT uid FROM res_groups_users_rel WHERE gid = %s", owner))
        return frozenset(uid for uid, in rows)

    @api.model
    def _security_owner_memberships(self):
        """{(owner uid, group id)}: every group the Owner holds, implied ones included."""
        owner = self._security_role_group_ids().get("owner")
        if not owner:
            return frozenset()
        self.env.flush_all()
        return frozenset(self.env.execute_query(SQL(
            "SELECT r.uid, r.gid FROM res_groups_users_rel r"
            " WHERE r.uid IN (SELECT uid FROM res_groups_users_rel WHERE gid = %s)", owner)))

    @api.model
    def _security_check_owner_memberships(self, before):
        """Nobody but the Owner changes the Owner's groups, any group: only the
        Owner (or the ownership transfer) adds or removes one. The Owner role
        itself moves only by the transfer, whoever asks, superuser included."""
        self._security_check_owner_unchanged(frozenset(uid for uid, _gid in before))
        if _OWNER_CHANGE.get() or self._security_uninstalling():
            return
        after = self._security_owner_memberships()
        if after == before:
            return
        Users = self.env["res.users"]
        if actor.is_server(self.env) or Users._security_actor_is_owner() \
                or Users._security_settings_apply_allows("res.groups"):
            return
        changed = {gid for _uid, gid in before ^ after}
        names = ", ".join(self.sudo().browse(sorted(changed)).mapped("full_name"))
        self.browse(sorted(changed)[:1])._security_refuse("write", self.env._(
            "Only the Owner changes the Owner's groups (%(groups)s).", groups=names))

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
