from odoo import api, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression

from odoo.addons.security_roles import actor

from .team import CONFIDENTIAL_MODELS, check_team_role, team_level


# Files not yet with their document: a composer's uploads (res_id 0) and a
# scheduled message's. Until they are posted, only who uploaded them reads
# them (core lets Settings read them, and a team member's draft on an
# advisory is as confidential as the advisory).
STAGING_MODELS = ("mail.compose.message", "mail.scheduled.message")

# what a patch file is: a change of one of these changes what was sent
PATCH_CONTENT = {"raw", "datas", "db_datas", "name", "type", "url"}


class IrAttachment(models.Model):
    """Files of reports and advisories are served only to who may read the
    document: never public, never through an access token (which /web/content
    honours for anyone holding it)."""
    _inherit = "ir.attachment"

    def _security_confidential(self):
        # sudo: res_model is needed to decide, whoever asks
        return self.sudo().filtered(lambda a: a.res_model in CONFIDENTIAL_MODELS)

    def _check_access(self, operation):
        """Files of reports and advisories are the team's, for every ORM path
        (read, RPC, /web/content): an exploit in the chatter stays confidential
        even for who reads the document (a recipient, the reporter, everyone
        after publication). Outsiders get patches from the advisory pages, which
        serve `patch_attachment_ids` only. Team members need the same access to
        the document."""
        result = super()._check_access(operation)
        if self.env.su or not self:
            return result
        confidential = self._security_confidential()
        if confidential and not team_level(self.env):
            forbidden = self.browse(confidential.ids)
        else:
            forbidden = self.browse()
        if not actor.is_server(self.env):
            principal = actor.acting_uid(self.env)
            # sudo: who uploaded a staged file decides, whoever asks
            forbidden |= self.browse(self.sudo().filtered(
                lambda a: a.res_model in STAGING_MODELS and a.create_uid.id != principal).ids)
        for attachment in confidential - forbidden:
            document = self.env[attachment.res_model].browse(attachment.res_id)
            mode = "read" if operation == "read" else "write"
            if not document.exists() or not document.has_access(mode):
                forbidden |= self.browse(attachment.id)
        if not forbidden:
            return result
        if result:
            return (result[0] | forbidden, result[1])
        return (forbidden, lambda: AccessError(self.env._(
            "Sorry, you are not allowed to access this document.")))

    @api.model
    def _search(self, domain, *args, **kwargs):
        # Outside the team, searches do not even count the confidential files.
        if not self.env.su and not team_level(self.env):
            domain = expression.AND([domain, ["|", ("res_model", "=", False),
                                              ("res_model", "not in", CONFIDENTIAL_MODELS)]])
        if not self.env.su and not actor.is_server(self.env):
            domain = expression.AND([domain, ["|", ("res_model", "not in", STAGING_MODELS),
                                              ("create_uid", "=", actor.acting_uid(self.env))]])
        return super()._search(domain, *args, **kwargs)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("res_model") in CONFIDENTIAL_MODELS:
                self._security_refuse_sharing(vals)
        return super().create(vals_list)

    def write(self, vals):
        sent = self.env["security.advisory"]
        if (vals.get("res_model") in CONFIDENTIAL_MODELS or self._security_confidential()):
            self._security_refuse_sharing(vals)
            self._security_check_released_patches("write")
            if PATCH_CONTENT & set(vals):
                sent = self._security_sent_advisories()
        result = super().write(vals)
        sent._security_patches_changed(self, self.env._("changed"))
        return result

    def unlink(self):
        sent = self.env["security.advisory"]
        if self._security_confidential():
            self._security_check_released_patches("unlink")
            sent = self._security_sent_advisories()
        names = {attachment.id: attachment.name for attachment in self}
        result = super().unlink()
        sent._security_patches_changed(names, self.env._("removed"))
        return result

    def _security_sent_advisories(self):
        """The broadcast or public advisories that publish these files: their
        recipients have the files, so a change is a new revision."""
        # sudo: which advisories publish these files decides, whoever asks
        return self.env["security.advisory"].sudo().search([
            ("patch_attachment_ids", "in", self.ids), ("state", "in", ("broadcast", "public"))])

    def _security_check_released_patches(self, operation):
        """The patch files of an approved (or later) advisory are what was
        approved and sent: only an Admin of the team changes or deletes them."""
        # sudo: which advisories publish these files decides, whoever asks
        released = self.env["security.advisory"].sudo().search_count([
            ("patch_attachment_ids", "in", self.ids),
            ("state", "in", ("approved", "broadcast", "public", "withdrawn"))])
        if released:
            check_team_role(self, "admin", self.env._(
                "change the patch files of an approved advisory"), operation)

    @api.model
    def _security_refuse_sharing(self, vals):
        if vals.get("public") or vals.get("access_token"):
            raise UserError(self.env._(
                "Files of vulnerability reports and advisories cannot be public or shared by "
                "link: recipients download them from the portal, everyone else after publication "
                "from the advisory page."))

    def generate_access_token(self):
        if self._security_confidential():
            self._security_refuse_sharing({"access_token": True})
        return super().generate_access_token()

    def validate_access(self, access_token):
        self.ensure_one()
        # sudo: where the file belongs decides, whoever asks
        if self._security_confidential() or self.sudo().res_model in STAGING_MODELS:
            # Neither the token nor `public` counts: the document (or, for a
            # staged file, who uploaded it) decides.
            if self.env.user._is_public() or self.env.user._is_portal():
                raise AccessError(self.env._("Sorry, you are not allowed to access this document."))
            self.check_access("read")
            return self
        return super().validate_access(access_token)
