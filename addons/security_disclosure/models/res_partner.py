from odoo import api, fields, models

from .team import check_team_decides, refuse, team_decides

# Changing one of these on a recipient would send the next advisory elsewhere
# (another address, another company's contact list).
RECIPIENT_FIELDS = ("email", "parent_id", "advisory_subscriber", "advisory_contract_end",
                    "advisory_recipient")


class ResPartner(models.Model):
    _inherit = "res.partner"

    advisory_subscriber = fields.Boolean(
        string="Advisory subscriber", groups="security_disclosure.group_security_team",
        copy=False,
        help="Its contacts marked as advisory recipients receive private security advisories "
        "under embargo while the contract runs.")
    advisory_contract_end = fields.Date(
        string="Advisory contract end", groups="security_disclosure.group_security_team",
        copy=False,
        help="Last day on which this partner's recipients receive private advisories.")
    advisory_recipient = fields.Boolean(
        string="Receives private advisories", groups="security_disclosure.group_security_team",
        copy=False,
        help="Set by the Security team only: this contact (of a subscriber, or the subscriber "
        "itself) receives private advisories at its e-mail address. A new contact under a "
        "subscriber receives nothing until the team marks it.")
    security_intake_contact = fields.Boolean(
        string="Created by vulnerability intake", groups="security_disclosure.group_security_team",
        copy=False, readonly=True,
        help="Created from the sender of a vulnerability report (the report form or the "
        "e-mail alias): only the Security team reads it, unless it becomes a user's contact.")

    # Who receives private advisories is known to, and decided by, the Security team only.

    @api.model
    def _security_advisory_recipients(self, on_date=None):
        """Contacts the team marked as recipients, with an e-mail address, of
        subscribers whose contract still runs on `on_date`."""
        on_date = on_date or fields.Date.context_today(self)
        subscribers = self.search([("advisory_subscriber", "=", True),
                                   ("advisory_contract_end", ">=", on_date)])
        if not subscribers:
            return self.browse()
        return self.search([("id", "child_of", subscribers.ids), ("email", "!=", False),
                            ("advisory_recipient", "=", True)])

    def _security_under_subscriber(self):
        """The partners of self that are advisory subscribers or contacts under
        one (whom the team may mark as recipients), contract running or not."""
        # sudo: who subscribes is the team's secret; only tested, never returned
        Partner = self.sudo().with_context(active_test=False)
        subscribers = Partner.search([("advisory_subscriber", "=", True)])
        if not self or not subscribers:
            return self.browse()
        return self.browse(Partner.search([("id", "in", self.ids),
                                           ("id", "child_of", subscribers.ids)]).ids)

    def _security_disclosure_contacts(self):
        """The partners of self through whom a user would read something of an
        unpublished report or advisory: recipients, subscribers and their
        contacts, holders of a receipt of an unpublished advisory, reporters."""
        if not self:
            return self
        # sudo: who receives advisories or reported a vulnerability is the
        # team's secret; only tested here, never returned to the caller
        Partner = self.sudo().with_context(active_test=False)
        found = Partner.search([("id", "in", self.ids), ("advisory_recipient", "=", True)])
        found |= self._security_under_subscriber().sudo()
        found |= self.env["security.advisory.receipt"].sudo().search([
            ("partner_id", "in", self.ids),
            ("advisory_id.state", "not in", ("public", "withdrawn"))]).partner_id
        found |= self.env["security.report"].sudo().with_context(active_test=False).search(
            [("reporter_partner_id", "in", self.ids)]).reporter_partner_id
        return self.browse(found.ids)

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get(f) for vals in vals_list for f in RECIPIENT_FIELDS[2:]):
            self._security_check_recipient_change("create")
        return super().create(vals_list)

    def write(self, vals):
        if set(RECIPIENT_FIELDS) & set(vals) and self._security_recipient_changed(vals):
            self._security_check_recipient_change()
        if "security_intake_contact" in vals and not vals["security_intake_contact"]:
            # sudo: whether a contact is a reporter's is only tested here
            if self.sudo().filtered("security_intake_contact"):
                # the contact would become visible to every employee
                check_team_decides(self, self.env._(
                    "show a contact created by vulnerability intake to everyone"))
        if vals.get("parent_id") and self.browse(vals["parent_id"])._security_under_subscriber():
            # sudo: whose contact this is decides, whoever may read the users
            users = self.sudo().with_context(active_test=False).user_ids
            if users:
                # the user becomes a subscriber's contact, whom the team may mark
                check_team_decides(self, self.env._(
                    "make a user a contact of an advisory subscriber"))
        return super().write(vals)

    def _security_recipient_changed(self, vals):
        """Whether `vals` marks a contact (recipient, subscriber, contract) or
        readdresses one that receives advisories. Unchanged values are not a
        change: the portal's "My details" re-sends the e-mail address."""
        # sudo: whether a contact receives advisories is the team's secret; it
        # is only tested here, never returned
        # reporters too: replies to their reports go to their address
        reporters = set(self.env["security.report"].sudo().with_context(active_test=False).search(
            [("reporter_partner_id", "in", self.ids)]).reporter_partner_id.ids) \
            if set(RECIPIENT_FIELDS[:2]) & set(vals) else set()
        for partner in self.sudo():
            receives = partner.advisory_recipient or partner.advisory_subscriber \
                or partner.id in reporters
            for name in set(RECIPIENT_FIELDS) & set(vals):
                if name in RECIPIENT_FIELDS[:2] and not receives:
                    continue
                field = partner._fields[name]
                value = field.convert_to_record(
                    field.convert_to_cache(vals[name], partner), partner)
                if (value or False) != (partner[name] or False):
                    return True
        return False

    def _security_check_recipient_change(self, operation="write"):
        if not team_decides(self.env):
            refuse(self, self.env._(
                "This contact receives private security advisories or reported a "
                "vulnerability: its e-mail address and company are changed by an Admin of the "
                "Security team only. Ask one."), operation)
