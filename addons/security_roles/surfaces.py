"""The technical surfaces of Odoo: what runs code or defines security. They are
the Owner's (and a technical-access Admin's). Plain Python: the classification
reads a model's name and fields only, so every model of the registry, those of
modules installed later included, is classified the same way.
"""
import fnmatch

# Whole families by name: modules, external IDs, security definitions, mail
# routing, authentication providers, system parameters.
TECHNICAL_MODELS = {
    "ir.module.module": "modules",
    "ir.module.module.dependency": "modules",
    "ir.module.module.exclusion": "modules",
    "ir.module.category": "modules",
    "base.module.update": "modules",
    "base.module.upgrade": "modules",
    "base.module.uninstall": "modules",
    "base.module.install.request": "modules",
    "base.module.install.review": "modules",
    "base.language.import": "code (translations of views and templates)",
    "ir.model.data": "external IDs",
    "res.groups": "security definitions",
    "ir.model.access": "security definitions",
    "ir.rule": "security definitions",
    "ir.config_parameter": "system parameters",
    "ir.mail_server": "mail routing",
    "fetchmail.server": "mail routing",
    "mail.alias.domain": "mail routing",
    "res.company.ldap": "authentication providers",
    "auth.oauth.provider": "authentication providers",
    "auth.saml.provider": "authentication providers",
    "auth.saml.group.map": "authentication providers",
    "ir.default": "code (default values of any field)",
    "mail.message.subtype": "security definitions (which messages are internal, who follows them)",
    "ir.profile": "code (profiling)",
}
TECHNICAL_PREFIXES = {
    "ir.actions.": "code (actions)",
    "ir.model": "code (models and fields)",
    "ir.ui.view": "code (views and QWeb templates)",
    "ir.ui.menu": "security definitions (menus)",
    "ir.asset": "code (asset definitions)",
    "ir.cron": "code (scheduled actions)",
    "base.automation": "code (automated actions)",
    "ir.embedded.actions": "code (actions)",
}
# Fields that hold code, templates or security definitions, whatever the model.
CODE_FIELDS = {
    ("code", "text"), ("arch", "text"), ("arch_db", "text"), ("arch_base", "text"),
    ("arch_fs", "char"), ("arch_prev", "text"), ("compute", "text"), ("depends", "char"),
    ("related", "char"), ("domain_force", "text"), ("filter_domain", "char"),
    ("filter_pre_domain", "char"), ("print_report_name", "char"),
}

# Models that match the rules above yet are functional administration or a
# user's own state, each with the reason. A model only leaves the technical
# surfaces by being named here.
FUNCTIONAL_MODELS = {
    "res.users": "account administration; its groups and credentials have their own guards",
    "ir.cron.trigger": "asks an existing scheduled action to run sooner; no new code",
    "ir.cron.progress": "the progress of a running scheduled action",
    "ir.ui.view.custom": "a user's own dashboard layout",
    "discuss.channel": "who may join a channel is the channel's administration",
    "mail.canned.response": "who may use a canned response",
}

# System parameters: functional only if a Settings page sets them and no
# pattern below names them.
NEVER_FUNCTIONAL_PARAMS = (
    "database.*", "web.base.url*", "auth_signup.*", "auth_oauth.*", "auth_ldap.*",
    "auth_totp.*", "auth_passkey.*", "auth_password_policy.*", "base.login_cooldown*",
    "auth_throttle.*",
    "base.template_portal_user_id", "base.profiling_enabled_until",
    "mail.restrict.template.rendering", "mail.catchall.*", "mail.bounce.*",
    "mail.default.from*", "base_setup.default_external_email_server",
    "google_gmail_*", "microsoft_outlook_*", "ir_attachment.location",
    # the suite's own keys: only those each addon names functional are
    "security_roles.*", "audit_trail.*", "auth_saml_all_tiers.*",
    "security_disclosure.*", "selfhost_backup.*",
)
# Parameters an Admin may not even read (they sign or unlock things).
SECRET_PARAMS = ("database.secret", "*secret*", "*password*", "*token*", "*private*")


def technical_reason(model_name, fields):
    """Why `model_name` is a technical surface, or None. `fields`: iterable of
    (name, type, comodel_name) of the model's fields."""
    if model_name in FUNCTIONAL_MODELS:
        return None
    if model_name in TECHNICAL_MODELS:
        return TECHNICAL_MODELS[model_name]
    for prefix, reason in TECHNICAL_PREFIXES.items():
        if model_name.startswith(prefix):
            return reason
    for name, ftype, comodel in fields:
        if comodel == "res.groups":
            return f"security definitions (field {name} names groups)"
        if (name, ftype) in CODE_FIELDS:
            return f"code (field {name})"
    return None


def matches(key, patterns):
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)


def functional_params(settings_params, suite_functional):
    """The system parameters an Admin may set: those of Settings pages that no
    never-functional pattern names, and those the suite's addons name."""
    return frozenset(key for key in settings_params
                     if not matches(key, NEVER_FUNCTIONAL_PARAMS)
                     and not matches(key, SECRET_PARAMS)) | frozenset(suite_functional)
