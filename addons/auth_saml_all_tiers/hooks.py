MIN_PASSWORD_LENGTH = 12


def post_init_hook(env):
    """Passwords of at least 12 characters (core auth_password_policy), never
    lowering a stricter setting."""
    ICP = env["ir.config_parameter"].sudo()
    current = int(ICP.get_param("auth_password_policy.minlength", 0) or 0)
    ICP.set_param("auth_password_policy.minlength", max(current, MIN_PASSWORD_LENGTH))
