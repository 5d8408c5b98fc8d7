"""The team's protections hold against a workspace Admin outside the team.

A workspace Admin is also Settings (base.group_system) and could otherwise join
the team (groups of a user, users of the team, a group implying the team) or
switch off what keeps the embargo (the record rules and access rights of this
module, a group rule widening the reports or advisories). Every such change,
by whatever path, is compared before/after: only team Admins and the Owner may
make it; each one is audited and raises an alert; a refused one is audited
as denied.

Code (server actions, scheduled actions, modules) is the Owner's through
security_roles; the team's other decisions are guarded in team_config.py,
res_users.py, res_partner.py, base_partner_merge.py, mail_followers.py and on
the reports themselves.
"""
from odoo import api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from odoo.addons.security_roles import actor
from odoo.addons.security_roles.models.res_users import _touches_groups

from .team import CONFIDENTIAL_MODELS, ROLE_LEVEL, TEAM_GROUP, principal

MODULE = "security_disclosure"


def _protections(env):
    """A fingerprint of who is in the team and of the rules and access rights
    that keep reports and advisories confidential."""
    team = env.ref(TEAM_GROUP, raise_if_not_found=False)
    if not team:
        return None
    env.flush_all()
    members = env.execute_query(SQL(
        "SELECT uid FROM res_groups_users_rel WHERE gid = %s ORDER BY uid", team.id))
    implying = env.execute_query(SQL("""
        WITH RECURSIVE up(gid) AS (
            SELECT gid FROM res_groups_implied_rel WHERE hid = %(team)s
            UNION SELECT r.gid FROM res_groups_implied_rel r JOIN up ON r.hid = up.gid)
        SELECT gid FROM up ORDER BY gid""", team=team.id))
    models_ids = SQL("(SELECT id FROM ir_model WHERE model IN %s)", CONFIDENTIAL_MODELS)
    own = SQL("(SELECT res_id FROM ir_model_data WHERE module = %s AND model = %s)",
              MODULE, "ir.rule")
    rules = env.execute_query(SQL("""
        SELECT r.id, r.model_id, r.active, r.domain_force, r.perm_read, r.perm_write,
               r.perm_create, r.perm_unlink,
               ARRAY(SELECT group_id FROM rule_group_rel WHERE rule_group_id = r.id
                     ORDER BY group_id)
          FROM ir_rule r
         WHERE r.model_id IN %s OR r.id IN %s
         ORDER BY r.id""", models_ids, own))
    access = env.execute_query(SQL("""
        SELECT id, model_id, group_id, active, perm_read, perm_write, perm_create, perm_unlink
          FROM ir_model_access WHERE model_id IN %s ORDER BY id""", models_ids))
    return {
        "members": tuple(uid for uid, in members),
        "groups implying the team": tuple(gid for gid, in implying),
        "record rules": tuple(map(tuple, rules)),
        "access rights": tuple(map(tuple, access)),
    }


def may_change_protections(env, before):
    """Team Admins and the Owner (and server code: install, update, shell),
    decided by the principal. Membership is read from the database as it was
    before the change (group caches can lag behind a rolled-back attempt)."""
    if actor.is_server(env) or before is None:
        return True
    uid = actor.acting_uid(env)
    if not uid:
        return False
    if uid in env["res.groups"]._security_owner_ids():
        return True
    return uid in before["members"] and \
        ROLE_LEVEL.get(principal(env).security_role, 0) >= ROLE_LEVEL["admin"]


def _check_protections(env, before, allowed):
    after = _protections(env)
    if before is None or after == before:
        return  # nothing to protect yet (the module is being installed)
    if after is None:  # the team group itself was deleted
        after = dict.fromkeys(before, ())
    changed = sorted(key for key in after if after[key] != before[key])
    details = {"changed": changed}
    if "members" in changed:
        details["added_user_ids"] = sorted(set(after["members"]) - set(before["members"]))
        details["removed_user_ids"] = sorted(set(before["members"]) - set(after["members"]))
    audit = "audit.event" in env
    server = actor.is_server(env)
    if audit and (not allowed or not server):
        env["audit.event"].log(
            "authorization", "security_team_protections_change",
            outcome="success" if allowed else "denied", model="res.groups",
            res_id=env.ref(TEAM_GROUP).id, res_name="Security team", details=details,
            user=principal(env) or None)
    if not allowed:
        raise AccessError(env._(
            "Only an Admin of the Security team or the Owner can change who is in the "
            "Security team or the access rules of vulnerability reports and advisories."))
    if audit and not server:
        # A person changed it (with or without sudo): the Owner and Admins hear of it.
        env["audit.alert"].raise_alert(
            "security_team_changed", env._("Security team changed"),
            env._("%(user)s changed the Security team's %(what)s.",
                  user=principal(env).name or env._("An anonymous visitor"),
                  what=", ".join(changed)),
            severity="warning")


def _guarded(env, call):
    # Decided before the change: joining the team must not authorise itself.
    before = _protections(env)
    allowed = may_change_protections(env, before)
    result = call()
    _check_protections(env, before, allowed)
    return result


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model_create_multi
    def create(self, vals_list):
        return _guarded(self.env, lambda: super(ResUsers, self).create(vals_list))

    def write(self, vals):
        if not _touches_groups(vals):
            return super().write(vals)
        return _guarded(self.env, lambda: super(ResUsers, self).write(vals))

    def unlink(self):
        return _guarded(self.env, lambda: super(ResUsers, self).unlink())


class ResGroups(models.Model):
    _inherit = "res.groups"

    _GUARDED = ("users", "implied_ids", "rule_groups", "model_access")

    @api.model_create_multi
    def create(self, vals_list):
        if not any(key in vals for vals in vals_list for key in self._GUARDED):
            return super().create(vals_list)
        return _guarded(self.env, lambda: super(ResGroups, self).create(vals_list))

    def write(self, vals):
        if not any(key in vals for key in self._GUARDED):
            return super().write(vals)
        return _guarded(self.env, lambda: super(ResGroups, self).write(vals))

    def unlink(self):
        return _guarded(self.env, lambda: super(ResGroups, self).unlink())


class TeamGuarded(models.AbstractModel):
    """Every change of these records (record rules, access rights) may touch
    the protections of the confidential models: decided by _guarded."""
    _name = "security.team.guarded"
    _description = "Changes guarded by the security team"

    @api.model_create_multi
    def create(self, vals_list):
        return _guarded(self.env, lambda: super(TeamGuarded, self).create(vals_list))

    def write(self, vals):
        return _guarded(self.env, lambda: super(TeamGuarded, self).write(vals))

    def unlink(self):
        return _guarded(self.env, lambda: super(TeamGuarded, self).unlink())


class IrRule(models.Model):
    _name = "ir.rule"
    _inherit = ["ir.rule", "security.team.guarded"]


class IrModelAccess(models.Model):
    _name = "ir.model.access"
    _inherit = ["ir.model.access", "security.team.guarded"]
