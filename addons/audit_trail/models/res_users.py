from odoo import SUPERUSER_ID, api, models
from odoo.exceptions import AccessDenied
from odoo.tools import SQL

from odoo.addons.security_roles.models.res_users import _touches_groups

DEFAULT_FAILED_LOGIN_THRESHOLD = 5
DEFAULT_FAILED_LOGIN_WINDOW = 10  # minutes


class ResUsers(models.Model):
    _inherit = "res.users"

    # ------------------------------------------------------------------
    # Logins (password, API key; SAML later) and RPC authentication
    # ------------------------------------------------------------------
    @classmethod
    def _login(cls, db, credential, user_agent_env):
        login = credential.get("login")
        try:
            auth_info = super()._login(db, credential, user_agent_env)
        except AccessDenied as denied:
            details = {"credential": credential.get("type")}
            if getattr(denied, "throttled", False):  # refused before any password check
                details["throttled"] = True
            cls._audit_authentication(db, "login", "failure", login=login, details=details)
            raise
        cls._audit_authentication(db, "login", "success", login=login, uid=auth_info["uid"],
                                  details={"method": auth_info.get("auth_method")})
        return auth_info

    @classmethod
    def check(cls, db, uid, passwd):
        try:
            return super().check(db, uid, passwd)
        except AccessDenied:
            cls._audit_authentication(db, "rpc.authenticate", "failure", uid=uid)
            raise

    @classmethod
    def _audit_authentication(cls, db, action, outcome, login=None, uid=None, details=None):
        """Authentication events go on their own cursor: the failure's own
        transaction is rolled back, and a success may have none."""
        with cls.pool.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            user = env["res.users"].browse(uid).exists() if uid else env["res.users"]
            account = user
            if login is None and user:
                login = user.login
            elif login and not user:
                login, typed, account = env["res.users"]._audit_login_label(login)
                details = {**(details or {}), **typed}
            # the account the attempt was about: its company labels the event
            # (Admins of other companies do not see who is being guessed at)
            env["audit.event"].log("authentication", action, outcome=outcome, user=user,
                                   login=login, details=details, immediate=False,
                                   model="res.users" if account else None,
                                   res_id=account[:1].id or None)
            env["audit.event"]._flush_buffer()
            if outcome == "failure" and login:
                env["res.users"]._audit_check_failed_logins(login)

    @api.model
    def _audit_login_label(self, login):
        """What audit events, and so alerts and webhooks, call a login typed at
        a prompt: an account's login as it is; for no account, a keyed digest
        and the length typed, never the text. Returns (login, details, the
        account or no record)."""
        # active_test: an archived account's login is a login, not a typed secret
        Users = self.with_context(active_test=False)
        account = Users.search(Users._get_login_domain(login), limit=1) if login else Users
        if not login or account:
            return login, {}, account
        return self._security_unknown_login_label(login), {"login_length": len(login)}, account

    @api.model
    def _audit_login_company(self, login):
        """The company of the account a login names (None for no account)."""
        Users = self.sudo().with_context(active_test=False)  # sudo: a label
        return Users.search(Users._get_login_domain(login), limit=1).company_id or None

    @api.model
    def _audit_check_failed_logins(self, login):
        ICP = self.env["ir.config_parameter"].sudo()
        threshold = int(ICP.get_param("audit_trail.failed_login_threshold",
                                      DEFAULT_FAILED_LOGIN_THRESHOLD))
        window = int(ICP.get_param("audit_trail.failed_login_window", DEFAULT_FAILED_LOGIN_WINDOW))
        self.env.cr.execute(SQL(
            "SELECT count(*) FROM audit_event WHERE category = 'authentication'"
            " AND outcome = 'failure' AND login = %s"
            " AND event_time > (now() at time zone 'utc') - make_interval(mins => %s)",
            login, window))
        failures = self.env.cr.fetchone()[0]
        if threshold and failures >= threshold:
            self.env["audit.alert"].raise_alert(
                "failed_logins",
                self.env._("Repeated failed logins for %s", login),
                self.env._("%(count)s failed logins for %(login)s within %(window)s minutes.",
                           count=failures, login=login, window=window),
                key=login, dedupe_minutes=window, company=self._audit_login_company(login))

    # ------------------------------------------------------------------
    # Role changes
    # ------------------------------------------------------------------
    def write(self, vals):
        if not _touches_groups(vals):
            return super().write(vals)
        before = {user.id: user.security_role for user in self}
        res = super().write(vals)
        for user in self:
            if user.security_role != before[user.id]:
                self.env["audit.event"].log(
                    "security_event", "role.change", model="res.users", res_id=user.id,
                    res_name=user.sudo().login,  # sudo: the login of the user just changed
                    changes={"security_role": [before[user.id], user.security_role]})
        return res
