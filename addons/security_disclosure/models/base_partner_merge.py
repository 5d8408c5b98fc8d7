from odoo import models

from .team import check_team_decides


class MergePartnerAutomatic(models.TransientModel):
    """Merging moves users, receipts and reports from one contact to another
    in SQL: merging a recipient's or a reporter's contact with another links
    users to what it receives. The team's decision, as linking a user is."""
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        partners = self.env["res.partner"].browse(partner_ids)
        if dst_partner:
            partners |= dst_partner
        if partners.exists()._security_disclosure_contacts():
            check_team_decides(self, self.env._(
                "merge contacts who receive private advisories or reported a vulnerability"))
        return super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
