"""Who may do what inside the security team: membership from the group this
module adds, the level from the workspace role of security_roles."""
from odoo.exceptions import AccessError

TEAM_GROUP = "security_disclosure.group_security_team"
ROLE_LEVEL = {"viewer": 1, "editor": 2, "admin": 3, "owner": 4}
# Models whose records (and chatter, followers, attachments, mails) only the
# team reads before publication.
CONFIDENTIAL_MODELS = ("security.report", "security.advisory", "security.advisory.receipt")


def team_level(env):
    """0 outside the team, else the level of the workspace role."""
    if env.su:
        return ROLE_LEVEL["owner"]
    user = env.user
    if not user.has_group(TEAM_GROUP):
        return 0
    return ROLE_LEVEL.get(user.security_role, 0)


def check_team_role(env, role, action):
    """Raise an AccessError unless the user is in the team with `role` or above."""
    if team_level(env) < ROLE_LEVEL[role]:
        raise AccessError(env._(
            "Only a member of the Security team with the %(role)s role or above can %(action)s.",
            role=role.capitalize(), action=action))
