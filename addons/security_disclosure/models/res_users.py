from odoo import api, models

from odoo.addons.security_roles import actor

from .team import check_team_decides, team_decides


class ResUsers(models.Model):
    """A user reads what its contact receives: the private advisories of a
    recipient, the reports and reviewed drafts of a reporter. Who is linked
    to such a contact, and who changes the sign-in details of its user, is
    the team's decision (its Admins, the Owner), by whatever path: a user
    created or re-linked, the portal wizard, a signup token, the contact's
    users."""
    _inherit = "res.users"

    @api.model_create_multi
    def create(self, vals_list):
        self._security_check_disclosure_link(vals_list, "create")
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("partner_id"):
            self._security_check_disclosure_link([vals])
        return super().write(vals)

    @api.model
    def _security_check_disclosure_link(self, vals_list, operation="write"):
        """Refused before anything changes: users given such a contact, or a
        new contact under an advisory subscriber (whom the team may mark)."""
        Partner = self.env["res.partner"]
        contacts = Partner.browse({vals["partner_id"] for vals in vals_list
                                   if vals.get("partner_id")})
        parents = Partner.browse({vals["parent_id"] for vals in vals_list
                                  if vals.get("parent_id") and not vals.get("partner_id")})
        if contacts._security_disclosure_contacts() or parents._security_under_subscriber():
            check_team_decides(self, self.env._(
                "link a user to a contact who receives private advisories or reported a "
                "vulnerability"), operation)

    def _security_check_credential_change(self, what):
        """Taking over a recipient's or a reporter's account reads what it
        reads: beyond security_roles' rule (the user, or someone holding all
        their groups), only the team's Admins and the Owner change them."""
        super()._security_check_credential_change(what)
        own = {actor.acting_uid(self.env), actor.acting_for_uid()}
        others = self.filtered(lambda user: user.id not in own)
        if not others or team_decides(self.env):
            return
        # sudo: whose contact it is decides, whoever may read the partners
        if others.sudo().partner_id._security_disclosure_contacts():
            check_team_decides(others, self.env._(
                "change %(what)s of a user who receives private advisories or reported a "
                "vulnerability", what=what))
