import os
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.fields import Command

from odoo.tools import SQL, config

from .. import actor
from ..login_label import unknown_login_label
from ..roles import ROLE_ORDER, highest_role, role_rank
from .res_config_settings import _SETTINGS_APPLY, SETTINGS_APPLY_MODELS
from .ir_config_parameter import _guessing_base_url

ROLE_SELECTION = [
    ("viewer", "Viewer"),
    ("editor", "Editor"),
    ("admin", "Admin"),
    ("owner", "Owner"),
]
# Fields of the Owner's record that nobody else may change.
DEFAULT_INACTIVE_DAYS = 90
# Login methods other than the password, and where their configuration lives
# (model, the user's field pointing at it or None).
LOGIN_METHOD_SOURCES = {
    "saml": ("auth.saml.provider", "saml_provider_id"),
    "oauth": ("auth.oauth.provider", "oauth_provider_id"),
    "ldap": ("res.company.ldap", None),
    "passkey": ("auth.passkey.key", None),
}


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
    def _security_unknown_login_label(self, login):
        """What the suite calls a login no account has (the throttle's
        counters, audit events and alerts): a digest, never the text. Keyed
        with `security_login_label_key` (odoo.conf) or SECURITY_LOGIN_LABEL_KEY
        (environment), outside the database, so that someone reading the
        database cannot test password guesses against the labels; without
        one, with the database secret."""
        secret = os.environ.get("SECURITY_LOGIN_LABEL_KEY") \
            or config.get("security_login_label_key") \
            or self.env["ir.config_parameter"].sudo().get_param("database.secret") or ""
        return unknown_login_label(secret, login)
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
        before = Groups._security_owner_memberships()
        users = super().create(vals_list)
        Groups._security_check_owner_memberships(before)
        return users

    def write(self, vals):
        touches_groups = _touches_groups(vals)
        credentials = {
            name for name in self._security_credential_fields() & set(vals)
            # the web client and imports re-send unchanged values
            if name not in ("login", "email") or any(u[name] != vals[name] for u in self)}
        sensitive = "active" in vals  # the Owner is never archived
        if credentials:
            self._security_check_credential_change(
                self.env._("the login, password, e-mail or sign-in methods"))
        if not (touches_groups or sensitive):
            return super().write(vals)
        Groups = self.env["res.groups"]
        before = Groups._security_owner_memberships()
        owner_ids = Groups._security_owner_ids()
        owners = self.filtered(lambda u: u.id in owner_ids)
        if owners and sensitive:
            owners._security_check_owner_edit(vals)
        old_roles = {user.id: user.security_role for user in self} if touches_groups else {}
        res = super().write(vals)
        if touches_groups:
            Groups._security_check_owner_memberships(before)
            self._security_strip_demoted(old_roles)
        return res

    @api.ondelete(at_uninstall=True)
    def _unlink_except_owner(self):
        if set(self.ids) & self.env["res.groups"]._security_owner_ids():
            raise AccessError(self.env._(
                "The Owner cannot be deleted. Transfer ownership to an active Admin first."))

    def _security_check_owner_edit(self, vals):
        """self: the Owner. Nobody archives the Owner; only the Owner changes
        the Owner's login or password (the credential guard also lets the
        Owner's own reset-password link and the server shell do it)."""
        if "active" in vals and not vals["active"]:
            raise AccessError(self.env._(
                "The Owner cannot be archived. Transfer ownership to an active Admin first."))

    # ------------------------------------------------------------------
    # Who acts: the principal (see ..actor), never env.uid or the context
    # ------------------------------------------------------------------
    @api.model
    def _security_principal_role(self):
        uid = actor.principal_uid()
        if not uid:
            return False
        # sudo: a role is not secret, and the principal may not read users
        return self.sudo().browse(uid).security_role

    @api.model
    def _security_actor_is_owner(self):
        """The principal (or, for server code, the environment's user) is the Owner."""
        return actor.acting_uid(self.env) in self.env["res.groups"]._security_owner_ids()

    @api.model
    def _security_technical_actor(self, use=None):
        """The technical surfaces are open to whoever acts: server code, the
        Owner, or an Admin whose technical access is running now. `use`:
        (model, operation) to audit when a grant is what allows it."""
        if actor.is_server(self.env):
            return True
        uid = actor.acting_uid(self.env)
        if not uid:
            return False
        if uid in self.env["res.groups"]._security_owner_ids():
            return True
        grant = self.env["security.technical.access"]._security_active_grant(uid)
        if grant and use:
            grant._security_record_use(*use)
        return bool(grant)

    @api.model
    def _security_settings_apply_allows(self, model_name):
        """Saving a Settings page applies what its fields declare (feature
        groups implied to users, defaults, the schedule of a job): code the
        Owner installed decides what is written, the Admin only the values."""
        return _SETTINGS_APPLY.get() and model_name in SETTINGS_APPLY_MODELS

    # ------------------------------------------------------------------
    # Credentials: changed by the user, or by someone holding all their groups
    # ------------------------------------------------------------------
    @api.model
    def _security_credential_fields(self):
        """Fields of res.users that are credentials or recovery paths. Any field
        a login method adds to the session token is one (auth_totp's secret...)."""
        return (set(self._get_session_token_fields()) - {"id", "active"}) | {
            "password", "new_password", "login", "email", "partner_id", "totp_secret",
            "oauth_uid", "oauth_provider_id", "oauth_access_token", "saml_provider_id",
            "saml_uid", "signup_type"}

    def _security_check_credential_change(self, what):
        """self: the users whose credentials are about to change."""
        denied = self._security_credential_denied()
        if denied:
            self.env["res.users"].browse(denied[:1])._security_refuse("write", self.env._(
                "You cannot change %(what)s of %(user)s: only that user, or someone who "
                "holds every group that user holds, can.",
                what=what, user=self.browse(denied[0]).sudo().display_name))

    def _security_credential_denied(self):
        """Ids of the users of self whose credentials the principal may not change."""
        if actor.is_server(self.env):
            return []
        uid = actor.acting_uid(self.env)
        proven = actor.acting_for_uid()
        targets = [u for u in self.ids if u and u != uid and u != proven]
        if not targets:
            return []
        if uid and uid in self.env["res.groups"]._security_owner_ids():
            return []  # the Owner holds every group
        if not uid:
            return targets
        held = self._security_group_sets([uid, *targets])
        mine = held.get(uid, frozenset())
        return [t for t in targets if not held.get(t, frozenset()) <= mine]

    @api.model
    def _security_group_sets(self, uids):
        """{uid: frozenset(group ids)}, without the Portal and Public user types
        (below an internal user's rights, which no internal user can hold)."""
        self.env["res.users"].flush_model(["groups_id"])
        below = [group.id for group in (self.env.ref("base.group_portal"),
                                        self.env.ref("base.group_public"))]
        rows = self.env.execute_query(SQL(
            "SELECT uid, array_agg(gid) FROM res_groups_users_rel"
            " WHERE uid IN %s AND gid NOT IN %s GROUP BY uid", tuple(uids), tuple(below)))
        return {uid: frozenset(gids) for uid, gids in rows}

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
        actor.mark_rpc_principal(db, uid, scope)
        return res

    def _check_credentials(self, credential, env):
        if credential.get("type") == "webauthn":
            # core's passkey check advances the passkey's signature counter once
            # the assertion is verified: the user's own change, proven by the
            # assertion (nothing is written when it fails)
            with actor.acting_for(self.env.user.id):
                return super()._check_credentials(credential, env)
        return super()._check_credentials(credential, env)

    @api.model
    def signup(self, values, token=None):
        if not token:
            return super().signup(values, token)
        # a valid reset/invitation token proves its user: the password it sets
        # is that user's own change (an invalid one raises here)
        partner = self.env["res.partner"].sudo()._signup_retrieve_partner(
            token, check_validity=True, raise_exception=True)
        with actor.acting_for(partner.user_ids[:1].id or None):
            return super().signup(values, token)

    @classmethod
    def _login(cls, db, credential, user_agent_env):
        auth_info = super()._login(db, credential, user_agent_env)
        if auth_info.get("auth_method") in LOGIN_METHOD_SOURCES:
            with cls.pool.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["res.users"]._security_check_login_method(
                    auth_info["uid"], auth_info["auth_method"])
        # the rest of a login request acts as the user who just proved it
        actor.set_request_principal(auth_info.get("uid"))
        return auth_info

    @api.model
    def _security_check_login_method(self, uid, method):
        """Another login method reaches the Owner only if the Owner set it up:
        every record it relies on was created and last changed by the Owner
        (or by the server itself, such as a metadata refresh)."""
        owners = self.env["res.groups"]._security_owner_ids()
        model_name, field = LOGIN_METHOD_SOURCES[method]
        if uid not in owners or model_name not in self.env:
            return
        user = self.sudo().browse(uid)
        if field:
            configs = user[field]
        else:  # configuration shared by every login (LDAP servers), or the Owner's passkeys
            domain = [("create_uid", "=", uid)] if model_name == "auth.passkey.key" else []
            configs = self.env[model_name].sudo().search(domain)
        authors = set(configs.create_uid.ids) | set(configs.write_uid.ids)
        others = authors - owners - {SUPERUSER_ID}
        if others or (model_name == "auth.passkey.key" and not configs):
            if "audit.event" in self.env:
                self.env["audit.event"].log(
                    "authentication", "login", outcome="denied", user=user, login=user.login,
                    details={"method": method, "reason": "login method set up by someone else"})
            raise AccessDenied(self.env._(
                "This sign-in method was set up by someone other than the Owner: the Owner "
                "signs in with a password instead."))

    @classmethod
    def authenticate(cls, db, credential, user_agent_env):
        # core rewrites web.base.url from the login request's Host for Settings
        # users; only the Owner's login may (reset links are built from it)
        with _guessing_base_url():
            return super().authenticate(db, credential, user_agent_env)

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
