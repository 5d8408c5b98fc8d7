from odoo import api, fields, models
from odoo.http import request
from odoo.tools import config

from ..lib import throttle

# headers a reverse proxy adds: seen without proxy_mode, every client has the
# proxy's address, and the throttle would count them all as one source
PROXY_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP",
                 "Forwarded")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # core's cooldown settings, read by the throttle (models/auth_throttle.py)
    auth_source_free = fields.Integer(
        string="Failures before an address is slowed",
        config_parameter="base.login_cooldown_after",
        default=throttle.SOURCE_DEFAULTS["free"],
        help="Failed passwords from one address (an IPv6 /64) before its attempts are delayed. "
             "0 turns the slowdown off. Core Odoo's setting base.login_cooldown_after.")
    auth_source_max_delay = fields.Integer(
        string="Longest delay for an address (seconds)",
        config_parameter="base.login_cooldown_duration",
        default=throttle.SOURCE_DEFAULTS["max_delay"],
        help="The delays double after each further failure, up to this. Core Odoo's setting "
             "base.login_cooldown_duration.")
    auth_pair_lockout_after = fields.Integer(
        string="Failures before a login is locked from one address",
        config_parameter="auth_throttle.login_source.lockout_after",
        default=throttle.LOGIN_SOURCE_DEFAULTS["lockout_after"],
        help="The login stays open from other addresses, known devices, single sign-on and "
             "API keys.")
    auth_pair_lockout_minutes = fields.Integer(
        string="Lockout (minutes)", config_parameter="auth_throttle.login_source.lockout_minutes",
        default=throttle.LOGIN_SOURCE_DEFAULTS["lockout_minutes"])
    auth_login_ceiling = fields.Integer(
        string="Failures from unknown devices before a login is slowed",
        config_parameter="auth_throttle.login.free",
        default=throttle.LOGIN_DEFAULTS["free"],
        help="Counts failures from every address together, against guessing spread over many "
             "addresses. It delays and never locks; a browser the user logged in from before, "
             "single sign-on, passkeys and API keys are not affected. Integrations should use "
             "API keys rather than passwords.")
    # a default, not a compute: the Settings form opens through onchange,
    # which gives a new record its defaults (the request is the page's own)
    auth_proxy_warning = fields.Char(default=lambda self: self._auth_proxy_warning(),
                                     readonly=True)

    @api.model
    def _auth_proxy_warning(self):
        """A warning when this request came through a reverse proxy that Odoo
        does not follow: proxy_mode off, or on while the proxy does not send
        X-Forwarded-Host (Odoo reads X-Forwarded-For only with it). Every login
        would then seem to come from the proxy, and one address's slowdown
        would slow everyone."""
        if not request:
            return False
        headers = request.httprequest.headers
        seen = [name for name in PROXY_HEADERS if headers.get(name)]
        if not seen:
            return False
        if not config.get("proxy_mode"):
            return self.env._(
                "This page came through a reverse proxy (%(headers)s), but proxy_mode is off in "
                "odoo.conf: every login seems to come from %(address)s, so failed passwords from "
                "one person slow everyone down. Set proxy_mode = True (and have the proxy set "
                "X-Forwarded-For and X-Forwarded-Host).",
                headers=", ".join(seen), address=request.httprequest.remote_addr)
        if not headers.get("X-Forwarded-Host"):
            return self.env._(
                "This page came through a reverse proxy (%(headers)s) that does not send "
                "X-Forwarded-Host: Odoo then ignores X-Forwarded-For even with proxy_mode on, "
                "and every login seems to come from %(address)s. Have the proxy set "
                "X-Forwarded-Host (and X-Forwarded-For).",
                headers=", ".join(seen), address=request.httprequest.remote_addr)
        return False
