import base64
import hashlib
import logging
import re
import secrets

from odoo import api, fields, models
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.tools import SQL

from odoo.addons.base.models.res_users import check_identity

_logger = logging.getLogger(__name__)

POLICY_PARAM = "auth_saml_all_tiers.mfa_{}"
# Owner and Admin must use two-factor login unless the settings say otherwise
DEFAULT_POLICY = {"owner": "required", "admin": "required", "editor": "optional",
                  "viewer": "optional"}
POLICY_SELECTION = [("optional", "Optional"), ("required", "Required")]
RECOVERY_CODE_COUNT = 10
# 16 base32 characters: 80 bits, so a SHA-256 of the code is enough
RECOVERY_CODE_RE = re.compile(r"^[A-Z2-7]{4}(-?[A-Z2-7]{4}){3}$")


def normalize_code(code):
    return re.sub(r"[\s-]", "", code or "").upper()


def hash_code(code):
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def looks_like_recovery_code(text):
    return bool(RECOVERY_CODE_RE.match(re.sub(r"\s", "", text or "").upper()))


class ResUsersMfaPolicy(models.Model):
    _inherit = "res.users"

    mfa_required = fields.Boolean(
        string="Two-Factor Required", compute="_compute_mfa_required",
        help="The two-factor policy of the user's role requires an authenticator app.")
    recovery_code_count = fields.Integer(
        string="Unused Recovery Codes", compute="_compute_recovery_code_count")

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ["mfa_required", "recovery_code_count"]

    @api.model
    def _mfa_policy(self, role):
        default = DEFAULT_POLICY.get(role, "optional")
        # sudo: the policy is a system parameter every login reads
        value = self.env["ir.config_parameter"].sudo().get_param(POLICY_PARAM.format(role),
                                                                 default)
        return value if value in dict(POLICY_SELECTION) else default

    @api.depends("groups_id")
    def _compute_mfa_required(self):
        for user in self:
            user.mfa_required = bool(user.security_role) and \
                self._mfa_policy(user.security_role) == "required"

    def _compute_recovery_code_count(self):
        counts = dict(self.env["auth.recovery.code"].sudo()._read_group(  # sudo: a count only
            [("user_id", "in", self.ids), ("used_at", "=", False)], ["user_id"], ["__count"]))
        for user in self:
            user.recovery_code_count = counts.get(user, 0)

    # -- login ------------------------------------------------------------
    def _mfa_url(self):
        url = super()._mfa_url()
        if url is None and self.mfa_required and not self.totp_enabled:
            return "/web/login/totp/enroll"
        return url

    def _rpc_api_keys_only(self):
        # a password alone is not enough over RPC for an account that must use 2FA
        return super()._rpc_api_keys_only() or self.mfa_required

    def action_totp_disable(self):  # core's own decorator asks for the password
        owners = self.env["res.groups"]._security_owner_ids()
        for user in self:
            if user == self.env.user and user.mfa_required:
                raise UserError(self.env._(
                    "Your role requires two-factor authentication: it cannot be turned off."))
            if user.id in owners and self.env.uid not in owners and not self.env.su:
                raise AccessError(self.env._(
                    "Only the Owner can turn off the Owner's two-factor authentication."))
        res = super().action_totp_disable()
        # the codes of an authenticator that is gone go with it (sudo: hashes
        # are read and written by no one)
        self.env["auth.recovery.code"].sudo().search([("user_id", "in", self.ids)]).unlink()
        return res

    def _totp_try_setting(self, secret, code):
        done = super()._totp_try_setting(secret, code)
        if done:  # a new authenticator: codes of an earlier one stop working (sudo: as above)
            self.env["auth.recovery.code"].sudo().search([("user_id", "=", self.id)]).unlink()
        return done

    # -- recovery codes ---------------------------------------------------
    def _recovery_codes_generate(self):
        """New recovery codes (the old ones stop working). Returns them in clear,
        once; only their hashes are stored."""
        self.ensure_one()
        codes = []
        for _ in range(RECOVERY_CODE_COUNT):
            raw = secrets.token_bytes(10)
            text = base64.b32encode(raw).decode()
            codes.append("-".join(text[i:i + 4] for i in range(0, 16, 4)))
        Codes = self.env["auth.recovery.code"].sudo()  # sudo: hashes are written by no one else
        Codes.search([("user_id", "=", self.id)]).unlink()
        Codes.create([{"user_id": self.id, "code_hash": hash_code(code)} for code in codes])
        self._mfa_audit("totp.recovery_codes.generate", "success")
        return codes

    def _recovery_code_check(self, code):
        """Log in with a recovery code instead of a TOTP code: accepted once,
        throttled with the TOTP codes. Raises AccessDenied."""
        with self._totp_throttle():
            self.env.cr.execute(SQL(
                "UPDATE auth_recovery_code SET used_at = (now() at time zone 'utc')"
                " WHERE user_id = %s AND code_hash = %s AND used_at IS NULL RETURNING id",
                self.id, hash_code(code)))
            if not self.env.cr.fetchone():
                self._mfa_audit("totp.recovery_code", "failure")
                raise AccessDenied(self.env._("This recovery code is not valid."))
        self._mfa_audit("totp.recovery_code", "success")
        self._throttle_issue_device(self)  # the login is complete: a known device

    def _mfa_audit(self, action, outcome):
        if "audit.event" in self.env:  # audit_trail is optional
            self.env["audit.event"].sudo().log(  # sudo: recorded for whoever logs in
                "authentication", action, outcome=outcome, user=self, login=self.login,
                model="res.users", res_id=self.id, res_name=self.name)

    @check_identity
    def action_recovery_codes_regenerate(self):
        """New recovery codes, shown once in a dialog of the browser: the action
        returned carries them in clear and nothing else does (no wizard record,
        no session entry); only their hashes are stored."""
        self.ensure_one()
        if self != self.env.user:
            raise UserError(self.env._("Only the user can renew their own recovery codes."))
        if not self.totp_enabled:
            raise UserError(self.env._("Turn two-factor authentication on first."))
        return {
            "type": "ir.actions.client", "tag": "auth_saml_all_tiers.recovery_codes",
            "target": "new", "name": self.env._("Recovery Codes"),
            "params": {"codes": self._recovery_codes_generate()},
            "context": {"dialog_size": "medium"},
        }


class AuthRecoveryCode(models.Model):
    _name = "auth.recovery.code"
    _description = "Two-Factor Recovery Code"
    _security_credential_owner = "user_id"  # only the user, or someone above, renews them
    _log_access = False

    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True,
                              readonly=True)
    code_hash = fields.Char(required=True, readonly=True)
    used_at = fields.Datetime(readonly=True)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    def set_values(self):
        # the Owner's own protection is the Owner's to lower
        owners = self.env["res.groups"]._security_owner_ids()
        if self.mfa_policy_owner != self.env["res.users"]._mfa_policy("owner") \
                and self.env.uid not in owners and not self.env.su:
            raise AccessError(self.env._("Only the Owner can change the Owner's two-factor "
                                         "policy."))
        return super().set_values()

    mfa_policy_owner = fields.Selection(POLICY_SELECTION, string="Owner 2FA",
                                        config_parameter=POLICY_PARAM.format("owner"),
                                        default=DEFAULT_POLICY["owner"])
    mfa_policy_admin = fields.Selection(POLICY_SELECTION, string="Admin 2FA",
                                        config_parameter=POLICY_PARAM.format("admin"),
                                        default=DEFAULT_POLICY["admin"])
    mfa_policy_editor = fields.Selection(POLICY_SELECTION, string="Editor 2FA",
                                         config_parameter=POLICY_PARAM.format("editor"),
                                         default=DEFAULT_POLICY["editor"])
    mfa_policy_viewer = fields.Selection(POLICY_SELECTION, string="Viewer 2FA",
                                         config_parameter=POLICY_PARAM.format("viewer"),
                                         default=DEFAULT_POLICY["viewer"])
