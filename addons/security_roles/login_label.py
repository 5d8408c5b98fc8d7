"""The label of a login no account has, in plain Python (no Odoo import)."""
import hashlib
import hmac


def unknown_login_label(secret, login):
    """What the suite calls a login no account has (auth_saml_all_tiers'
    throttle counters, audit_trail's events): a digest keyed with the
    database secret, never the text (people type their password into the
    login field). None for an empty login."""
    login = (login or "").strip().lower()
    if not login:
        return None
    digest = hmac.new(secret.encode(), login.encode(), hashlib.sha256).hexdigest()[:12]
    return f"unknown login #{digest}"
