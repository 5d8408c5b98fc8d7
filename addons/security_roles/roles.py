"""The workspace roles, in plain Python (no Odoo import)."""

# Lowest to highest; each role implies the one before it.
ROLE_ORDER = ("viewer", "editor", "admin", "owner")
ROLE_XMLIDS = {role: f"security_roles.group_role_{role}" for role in ROLE_ORDER}

# The only models a Viewer may create, write or delete records of: their own
# preferences, password, 2FA and read-scoped API keys. Transient models are
# private to their creator, res.users.settings by record rule.
VIEWER_PERSONAL_MODELS = frozenset({
    "res.users.settings",
    "res.users.settings.volumes",
    "res.users.identitycheck",
    "change.password.own",
    "auth_totp.wizard",
    "res.users.apikeys.description",
    # read marks of the Viewer's own inbox and channels (own records only:
    # models/viewer_personal.py)
    "discuss.channel.member",
    "mail.notification",
})

API_KEY_SCOPES = ("read", "full")


def highest_role(roles):
    """The highest of an iterable of role names, or False."""
    ranked = [ROLE_ORDER.index(r) for r in roles if r in ROLE_ORDER]
    return ROLE_ORDER[max(ranked)] if ranked else False


def role_rank(role):
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else -1
