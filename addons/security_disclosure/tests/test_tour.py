from odoo.tests import HttpCase, tagged

from odoo.addons.security_roles.tests.common import password_logins_for_admins

from .common import disclosure_users


@tagged("post_install", "-at_install")
class TestDisclosureTour(HttpCase):
    """The whole procedure in Chromium, one person after the other."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        password_logins_for_admins(cls.env)
        disclosure_users(cls)

    def test_disclosure_in_the_browser(self):
        Report = self.env["security.report"]
        self.start_tour("/security/report", "security_disclosure_submit_report",
                        login="reporter.portal")
        report = Report.search([("reporter_partner_id", "=", self.reporter.partner_id.id)])
        self.assertEqual(len(report), 1)
        self.assertEqual(report.credit_preference, "name")
        self.assertNotIn("onerror", report.description)

        self.start_tour(f"/odoo/action-security_disclosure.action_security_report/{report.id}",
                        "security_disclosure_triage", login="team.editor")
        self.assertEqual((report.state, report.triage_outcome), ("triaged", "valid"))

        self.start_tour("/odoo/action-security_disclosure.action_security_advisory/new",
                        "security_disclosure_draft_advisory", login="team.editor")
        advisory = self.env["security.advisory"].search([("report_ids", "in", report.ids)])
        self.assertEqual(advisory.state, "review")

        self.start_tour("/my/security/advisories", "security_disclosure_reporter_approves",
                        login="reporter.portal")
        self.assertTrue(advisory.reporter_approved_date)

        self.start_tour(f"/odoo/action-security_disclosure.action_security_advisory/{advisory.id}",
                        "security_disclosure_broadcast", login="team.admin")
        self.assertEqual(advisory.state, "broadcast")

        self.start_tour("/my/security/advisories", "security_disclosure_recipient_reads",
                        login="recipient.portal")
        receipt = advisory.receipt_ids.filtered(lambda r: r.partner_id == self.recipient.partner_id)
        self.assertTrue(receipt.ack_date)
