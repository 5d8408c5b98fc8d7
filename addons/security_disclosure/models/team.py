"""Who may do what inside the security team: membership from the group this
module adds, the level from the workspace role of security_roles.

Decided by the principal (security_roles.actor): the user the server
authenticated for the request or RPC call, never env.uid, env.su or the
context, which code reached through core routes can change (with_user(),
sudo()) and an RPC caller can send."""
from odoo.addons.security_roles import actor

TEAM_GROUP = "security_disclosure.group_security_team"
ROLE_LEVEL = {"viewer": 1, "editor": 2, "admin": 3, "owner": 4}
# Models whose records (and chatter, followers, attachments, mails) only the
# team reads before publication.
CONFIDENTIAL_MODELS = ("security.report", "security.advisory", "security.advisory.receipt")


def principal(env):
    """The user whose rights decide (empty for an anonymous visitor)."""
    # sudo: the principal's groups decide, whoever the environment runs as
    return env["res.users"].sudo().browse(actor.acting_uid(env) or ())


def team_level(env):
    """0 outside the team, else the level of the principal's workspace role;
    server code (scheduled jobs, shell, install) speaks for the Owner."""
    if actor.is_server(env):
        return ROLE_LEVEL["owner"]
    user = principal(env)
    if not user or not user.has_group(TEAM_GROUP):
        return 0
    return ROLE_LEVEL.get(user.security_role, 0)


def team_decides(env):
    """The team's decisions (its configuration, who is linked to a recipient
    or reporter, what a released advisory shows to whom) are made by an Admin
    of the team or the Owner, in the team or not (the Owner can join it)."""
    if actor.is_server(env) or team_level(env) >= ROLE_LEVEL["admin"]:
        return True
    uid = actor.acting_uid(env)
    return bool(uid) and uid in env["res.groups"]._security_owner_ids()


def refuse(records, message, operation="write"):
    """Refuse with an audit event of the denial (security_roles)."""
    records._security_refuse(operation, message)


def check_team_role(records, role, action, operation="write"):
    """Refuse, audited, unless the principal is in the team with `role` or above.
    `records`: what the refused action was about (a model for a create)."""
    if team_level(records.env) < ROLE_LEVEL[role]:
        refuse(records, records.env._(
            "Only a member of the Security team with the %(role)s role or above can %(action)s.",
            role=role.capitalize(), action=action), operation)


def check_team_decides(records, what, operation="write"):
    """Refuse, audited, unless an Admin of the team or the Owner acts."""
    if not team_decides(records.env):
        refuse(records, records.env._(
            "Only an Admin of the Security team or the Owner can %(what)s. Ask one of them.",
            what=what), operation)
