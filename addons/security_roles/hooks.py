from odoo import SUPERUSER_ID

from .models.res_groups import owner_change_allowed


def post_init_hook(env):
    """Give every existing internal user a role: the database's initial admin
    user becomes Owner, Settings users Admin, other internal users Editor.
    New users get Editor through the default user template."""
    groups = env["res.groups"]._security_role_groups()
    Users = env["res.users"].with_context(active_test=False)
    # users given a role already (demo data, a reinstall) keep it
    internal = Users.search([("share", "=", False), ("id", "!=", SUPERUSER_ID),
                             ("groups_id", "not in", groups["viewer"].ids)])
    settings = env.ref("base.group_system")
    admins = internal.filtered(lambda u: settings in u.groups_id)
    owner = env.ref("base.user_admin", raise_if_not_found=False)
    if not owner or not owner.active or owner.share:
        owner = admins.filtered("active")[:1]
    with owner_change_allowed():
        groups["editor"].write({"users": [(4, u.id) for u in internal - admins]})
        groups["admin"].write({"users": [(4, u.id) for u in admins]})
        if owner:
            groups["owner"].write({"users": [(4, owner.id)]})
