"""What a Viewer's requests may still write (see base.Base._security_viewer_allowed):
Odoo's own bookkeeping, and records that are the Viewer's own."""
from odoo import models


def _own(records, principal, vals_list, field, own_id):
    """Create: every new record's `field` is `own_id`; write/unlink: every record's is."""
    if vals_list is not None:
        return all(vals.get(field) == own_id for vals in vals_list)
    # sudo: whose record it is decides, whoever may read it
    return set(records.sudo().mapped(f"{field}.id")) <= {own_id}


class ResUsersLog(models.Model):
    _inherit = "res.users.log"
    _security_bookkeeping = True


class BusBus(models.Model):
    _inherit = "bus.bus"
    _security_bookkeeping = True


class BusPresence(models.Model):
    _inherit = "bus.presence"
    _security_bookkeeping = True


class ResUsers(models.Model):
    _inherit = "res.users"

    def _security_viewer_allowed(self, operation, principal, vals=None, vals_list=None):
        # own preferences; the groups field has its own guards, and ACLs apply
        return operation == "write" and set(self.ids) == {principal} or super()\
            ._security_viewer_allowed(operation, principal, vals=vals, vals_list=vals_list)


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _security_viewer_allowed(self, operation, principal, vals=None, vals_list=None):
        own = self.env["res.users"].sudo().browse(principal).partner_id
        return operation == "write" and self.ids == own.ids or super()\
            ._security_viewer_allowed(operation, principal, vals=vals, vals_list=vals_list)


class ResUsersSettings(models.Model):
    _inherit = "res.users.settings"

    def _security_viewer_allowed(self, operation, principal, vals=None, vals_list=None):
        return _own(self, principal, vals_list, "user_id", principal) or super()\
            ._security_viewer_allowed(operation, principal, vals=vals, vals_list=vals_list)


class ResUsersSettingsVolumes(models.Model):
    _inherit = "res.users.settings.volumes"

    def _security_viewer_allowed(self, operation, principal, vals=None, vals_list=None):
        settings = self.env["res.users.settings"].sudo().search([("user_id", "=", principal)])
        return _own(self, principal, vals_list, "user_setting_id", settings.id) or super()\
            ._security_viewer_allowed(operation, principal, vals=vals, vals_list=vals_list)


class MailNotification(models.Model):
    _inherit = "mail.notification"

    def _security_viewer_allowed(self, operation, principal, vals=None, vals_list=None):
        # read marks of the Viewer's own inbox
        partner = self.env["res.users"].sudo().browse(principal).partner_id
        return operation == "write" and _own(self, principal, None, "res_partner_id", partner.id) \
            or super()._security_viewer_allowed(operation, principal, vals=vals,
                                                vals_list=vals_list)


class DiscussChannelMember(models.Model):
    _inherit = "discuss.channel.member"

    def _security_viewer_allowed(self, operation, principal, vals=None, vals_list=None):
        # seen/fetched marks, folding, pinning, mute: the Viewer's own membership
        partner = self.env["res.users"].sudo().browse(principal).partner_id
        return operation == "write" and _own(self, principal, None, "partner_id", partner.id) \
            or super()._security_viewer_allowed(operation, principal, vals=vals,
                                                vals_list=vals_list)


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _security_viewer_allowed(self, operation, principal, vals=None, vals_list=None):
        # security notices about the Viewer's own account (password changed...)
        if operation == "create":
            own = self.env["res.users"].sudo().browse(principal)
            return bool(own.email) and all(
                own.email in (vals.get("email_to") or "") and not vals.get("recipient_ids")
                for vals in vals_list)
        return super()._security_viewer_allowed(operation, principal, vals=vals,
                                                vals_list=vals_list)


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _security_viewer_allowed(self, operation, principal, vals=None, vals_list=None):
        # asset bundles, generated on first use by whoever loads the web client
        if operation == "create":
            return all((vals.get("url") or "").startswith("/web/assets/") and
                       not vals.get("res_id") for vals in vals_list)
        if operation == "unlink":  # bundles replaced by newer ones
            return all((url or "").startswith("/web/assets/")
                       for url in self.sudo().mapped("url"))
        return super()._security_viewer_allowed(operation, principal, vals=vals,
                                                vals_list=vals_list)
