from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessDenied, AccessError, UserError

from ..models.res_groups import owner_change_allowed

IDENTITY_CHECK_VALIDITY = timedelta(minutes=5)


class SecurityOwnershipTransfer(models.TransientModel):
    """Hand ownership over to an active Admin. The password is checked when
    the wizard is saved and never stored: only the time of the check is."""
    _name = "security.ownership.transfer"
    _description = "Ownership Transfer"

    new_owner_id = fields.Many2one(
        "res.users", required=True,
        domain="[('security_role', '=', 'admin'), ('share', '=', False)]",
        help="An active Admin. You become an Admin.")
    password = fields.Char(string="Your Password", compute="_compute_password",
                           inverse="_inverse_password")
    identity_checked_at = fields.Datetime(readonly=True)

    def _compute_password(self):
        self.password = False

    def _inverse_password(self):
        pass  # consumed by create/write, never stored

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:  # a caller cannot set the time of the check itself
            vals["identity_checked_at"] = self._check_password(vals.pop("password", None))
        return super().create(vals_list)

    def write(self, vals):
        vals.pop("identity_checked_at", None)  # only a password check sets it
        if "password" in vals:
            vals["identity_checked_at"] = self._check_password(vals.pop("password"))
        return super().write(vals)

    @api.model
    def _check_password(self, password):
        if not password:
            return False
        try:
            self.env.user._check_credentials(
                {"login": self.env.user.login, "password": password, "type": "password"},
                {"interactive": True})
        except AccessDenied as denied:
            if getattr(denied, "throttled", False):  # too many failures: say so
                raise UserError(str(denied)) from None
            raise UserError(self.env._("Wrong password: ownership was not transferred.")) from None
        return fields.Datetime.now()

    def action_transfer(self):
        self.ensure_one()
        Groups = self.env["res.groups"]
        old_owner = self.env.user
        if old_owner.id not in Groups._security_owner_ids():
            raise AccessError(self.env._("Only the Owner can transfer ownership."))
        if self.create_uid != old_owner or not self.identity_checked_at \
                or self.identity_checked_at < fields.Datetime.now() - IDENTITY_CHECK_VALIDITY:
            raise UserError(self.env._("Enter your password to confirm the transfer."))
        new_owner = self.new_owner_id
        if not new_owner.active or new_owner.share or new_owner.security_role != "admin":
            raise UserError(self.env._("Ownership can only go to an active Admin; %s is not one.",
                              new_owner.name))
        owner_group = Groups._security_role_groups()["owner"]
        # sudo: the Owner may lack no right here, but the groups write must not
        # depend on ACLs an Admin could have edited
        with owner_change_allowed():
            owner_group.sudo().write({"users": [(3, old_owner.id), (4, new_owner.id)]})
        return {"type": "ir.actions.client", "tag": "reload"}
