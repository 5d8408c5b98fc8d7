from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command

from ..roles import ROLE_ORDER, highest_role, role_rank
from .res_users_apikeys import mark_rpc_key_scope

ROLE_SELECTION = [
    ("viewer", "Viewer"),
    ("editor", "Editor"),
    ("admin", "Admin"),
    ("owner", "Owner"),
]
# Fields of the Owner's record that nobody else may change.
OWNER_CREDENTIAL_FIELDS = ("login", "password", "new_password")
DEFAULT_INACTIVE_DAYS = 90


def _touches_groups(vals):
    return "groups_id" in vals or any(
        key.startswith(("sel_groups_", "in_group_", "in_groups_")) for key in vals)


class ResUsers(models.Model):
    _inherit = "res.users"

    security_role = fields.Selection(
        ROLE_SELECTION, string="Workspace Role", compute="_compute_security_role",
        search="_search_security_role", compute_sudo=True)
    security_api_key_count = fields.Integer(
        string="API Key Count", compute="_compute_security_api_key_count", compute_sudo=True)
    security_inactive_days = fields.Integer(
        string="Days Inactive", compute="_compute_security_inactive",
        help="Days since the last login (or since creation for users who never logged in).")
    security_inactive = fields.Boolean(
        string="Inactive", compute="_compute_security_inactive",
        search="_search_security_inactive")

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("groups_id")
    def _compute_security_role(self):
        groups = self.env["res.groups"]._security_role_groups()
        for user in self:
            user.security_role = highest_role(
                role for role, group in groups.items() if group and group in user.groups_id)

    def _search_security_role(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Unsupported search on Workspace Role: %s", operator))
        wanted = [value] if operator in ("=", "!=") else list(value)
        # sudo: who holds a role is not secret, and the search must see every member
        groups = self.env["res.groups"].sudo()._security_role_groups()
        ids = set()
        for role in wanted:
            if not role:
                viewer = groups["viewer"]
                ids |= set(self.sudo().search([("share", "=", False),
                                               ("groups_id", "not in", viewer.ids)]).ids)
                continue
            members = set(groups[role].users.ids) if groups.get(role) else set()
            higher = ROLE_ORDER[ROLE_ORDER.index(role) + 1:]
            if higher:
                members -= set(groups[higher[0]].users.ids)
            ids |= members
        positive = operator in ("=", "in")
        return [("id", "in" if positive else "not in", list(ids))]

    @api.depends("api_key_ids")
    def _compute_security_api_key_count(self):
        for user in self:
            user.security_api_key_count = len(user.api_key_ids)

    @api.model
    def _security_inactive_cutoff(self):
        days = int(self.env["ir.config_parameter"].sudo().get_param(
            "security_roles.inactive_days", DEFAULT_INACTIVE_DAYS))
        return fields.Datetime.now() - timedelta(days=days)

    @api.depends("login_date", "create_date")
    def _compute_security_inactive(self):
        now = fields.Datetime.now()
        cutoff = self._security_inactive_cutoff()
        for user in self:
            last = user.login_date or user.create_date or now
            user.security_inactive_days = (now - last).days
            user.security_inactive = last < cutoff

    def _search_security_inactive(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on Inactive: %(operator)s %(value)s",
                                      operator=operator, value=value))
        cutoff = self._security_inactive_cutoff()
        domain = ["|", ("login_date", "<", cutoff),
                  "&", ("login_date", "=", False), ("create_date", "<", cutoff)]
        if (operator == "=") != value:
            domain = ["!", *domain]
        return domain

    # ------------------------------------------------------------------
    # CRUD: the Owner's protections hold for every caller and every path
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        Groups = self.env["res.groups"]
        before = Groups._security_owner_ids()
        users = super().create(vals_list)
        Groups._security_check_owner_unchanged(before)
        return users

    def write(self, vals):
        touches_groups = _touches_groups(vals)
        sensitive = "active" in vals or any(vals.get(f) for f in OWNER_CREDENTIAL_FIELDS)
        if not (touches_groups or sensitive):
            return super().write(vals)
        Groups = self.env["res.groups"]
        before = Groups._security_owner_ids()
        owners = self.filtered(lambda u: u.id in before)
        if owners and sensitive:
            owners._security_check_owner_edit(vals)
        old_roles = {user.id: user.security_role for user in self} if touches_groups else {}
        res = super().write(vals)
        if touches_groups:
            Groups._security_check_owner_unchanged(before)
            self._security_strip_demoted(old_roles)
        return res

    @api.ondelete(at_uninstall=True)
    def _unlink_except_owner(self):
        if set(self.ids) & self.env["res.groups"]._security_owner_ids():
            raise AccessError(self.env._(
                "The Owner cannot be deleted. Transfer ownership to an active Admin first."))

    def _security_check_owner_edit(self, vals):
        """self: the Owner. Nobody archives the Owner; only the Owner changes
        the Owner's login or password (and the superuser, for recovery from the
        server shell, or the Owner's own password-reset link)."""
        if "active" in vals and not vals["active"]:
            raise AccessError(self.env._(
                "The Owner cannot be archived. Transfer ownership to an active Admin first."))
        actor = self.env.uid
        if actor in self.ids or actor == SUPERUSER_ID:
            return
        for field in OWNER_CREDENTIAL_FIELDS:
            if not vals.get(field) or (field == "login" and vals["login"] == self.login):
                continue
            if field != "login" and self.env.su and self.env.user._is_public():
                continue  # reset-password link sent to the Owner's own address
            raise AccessError(self.env._("Only the Owner can change the Owner's login or password."))

    def _security_strip_demoted(self, old_roles):
        """A lower role loses what the higher one granted: an Admin made
        Editor loses Settings, which the selector alone would leave behind."""
        groups = self.env["res.groups"]._security_role_groups()
        keep_always = self.env.ref("base.group_user")
        for user in self:
            old, new = old_roles.get(user.id), user.security_role
            if not old or role_rank(new) >= role_rank(old):
                continue
            granted = groups[old] | groups[old].trans_implied_ids
            kept = (groups[new] | groups[new].trans_implied_ids) if new else keep_always
            drop = granted - kept - keep_always
            if drop & user.groups_id:
                user.write({"groups_id": [Command.unlink(g.id) for g in drop]})

    # ------------------------------------------------------------------
    # Authentication: remember which kind of key an RPC call uses
    # ------------------------------------------------------------------
    @classmethod
    def check(cls, db, uid, passwd):
        res = super().check(db, uid, passwd)
        with cls.pool.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            scope = env["res.users.apikeys"]._security_use_key(uid, passwd)
        mark_rpc_key_scope(db, uid, scope)
        return res

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_security_archive(self):
        """Access review: archive the selected users (the Owner is refused)."""
        self.check_access("write")
        if self.env.user in self:
            raise UserError(self.env._("You cannot archive your own account from the access review."))
        self.write({"active": False})
        return True

    def action_security_open_transfer(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": "security.ownership.transfer",
            "name": self.env._("Transfer Ownership"),
            "view_mode": "form",
            "target": "new",
        }
