from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from .common import CVSS31, SECRET, broadcast, disclosure_users, make_advisory, make_report


@tagged("post_install", "-at_install")
class TestAdvisoryWorkflow(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        disclosure_users(cls)
        cls.report = make_report(cls.env, cls.reporter.partner_id)

    def _advisory(self, **vals):
        return make_advisory(self.env(user=self.team_editor), self.report, **vals)

    def test_cvss_scored_by_library(self):
        advisory = self._advisory()
        self.assertEqual(advisory.cvss31_score, 6.1)
        self.assertEqual(advisory.cvss31_severity, "medium")
        self.assertEqual(advisory.cvss40_score, 9.3)
        self.assertEqual(advisory.cvss40_severity, "critical")
        advisory.cvss31_vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        self.assertEqual(advisory.cvss31_score, 9.8)
        self.assertEqual(advisory.cvss31_severity, "critical")

    def test_invalid_vectors_refused(self):
        advisory = self._advisory()
        cases = {
            "cvss31_vector": ["CVSS:3.1/AV:N/AC:L", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                              "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
            "cvss40_vector": ["CVSS:4.0/AV:N", CVSS31],
        }
        for field, vectors in cases.items():
            for vector in vectors:
                with self.subTest(field=field, vector=vector), \
                        self.assertRaisesRegex(ValidationError, "CVSS"), self.env.cr.savepoint():
                    advisory.write({field: vector})
                    advisory.flush_recordset()
        advisory.invalidate_recordset()
        self.assertEqual(advisory.cvss31_vector, CVSS31, "the valid vector is kept")
        with self.assertRaisesRegex(ValidationError, "CVSS 3.1"):
            make_advisory(self.env(user=self.team_editor), self.report, cvss31_vector="CVSS:3.1/x")
        with self.assertRaisesRegex(ValidationError, "CWE-79"), self.env.cr.savepoint():
            advisory.cwe_id = "79"
        with self.assertRaisesRegex(ValidationError, "CVE-2024-12345"):
            advisory.cve = "CVE-24-1"

    def test_roles_inside_team(self):
        advisory = self._advisory()
        self.assertTrue(advisory.name.startswith("SA-"))
        # Viewer reads, cannot change
        as_viewer = advisory.with_user(self.team_viewer)
        self.assertIn(SECRET, as_viewer.title)
        with self.assertRaises(AccessError):
            as_viewer.write({"title": "changed"})
        with self.assertRaises(AccessError):
            self.env["security.advisory"].with_user(self.team_viewer).create({"title": "x"})
        with self.assertRaises(AccessError):
            self.report.with_user(self.team_viewer).action_acknowledge()
        # Editor drafts, sends for review, cannot approve, broadcast or publish
        as_editor = advisory.with_user(self.team_editor)
        as_editor.action_send_to_reporter()
        self.assertEqual(advisory.state, "review")
        for action in ("action_approve", "action_publish"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(as_editor, action)()
        # Writing the state directly is refused as well (no path around the checks)
        for vals in ({"state": "public"}, {"published_date": "2020-01-01 00:00:00"},
                     {"approval_user_ids": [(4, self.team_editor.id)]}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                as_editor.write(vals)
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                self.env["security.advisory"].with_user(self.team_editor).create(
                    dict(vals, title="forged"))
        with self.assertRaises(AccessError):
            self.report.with_user(self.team_editor).write({"state": "closed"})
        # Admin outside the team: nothing at all
        with self.assertRaises(AccessError):
            advisory.with_user(self.out_admin).action_approve()
        with self.assertRaises(AccessError):
            self.env["security.advisory"].with_user(self.out_admin).create({"title": "x"})

    def test_full_lifecycle_with_named_approver(self):
        advisory = self._advisory(approver_ids=[(6, 0, [self.team_editor.id])])
        advisory.with_user(self.team_admin).action_send_to_reporter()
        self.assertEqual(advisory.state, "review")
        with self.assertRaisesRegex(UserError, "reporter has not approved"):
            advisory.with_user(self.team_admin).action_approve()
        advisory._reporter_approve(self.reporter.partner_id)
        with self.assertRaisesRegex(UserError, "team.editor"):
            advisory.with_user(self.team_admin).action_approve()
        advisory.with_user(self.team_editor).action_approve()
        self.assertEqual(advisory.state, "review", "a named Editor's approval is not the final one")
        advisory.with_user(self.team_admin).action_approve()
        self.assertEqual(advisory.state, "approved")
        # Content is frozen for Editors once approved
        with self.assertRaises(AccessError):
            advisory.with_user(self.team_editor).write({"summary": "changed"})

        before = fields.Datetime.now()
        broadcast(advisory, self.team_admin)
        self.assertEqual(advisory.state, "broadcast")
        self.assertAlmostEqual(advisory.embargo_date, advisory.broadcast_date + timedelta(days=21),
                               delta=timedelta(seconds=1))
        self.assertGreaterEqual(advisory.broadcast_date, before.replace(microsecond=0))
        partners = advisory.receipt_ids.partner_id
        self.assertIn(self.recipient.partner_id, partners)
        self.assertNotIn(self.customer, partners, "a subscriber's unmarked contact gets nothing")
        self.assertNotIn(self.stranger.partner_id, partners, "expired contract")
        self.assertNotIn(self.reporter.partner_id, partners)
        mails = self.env["mail.mail"].search([("model", "=", "security.advisory.receipt"),
                                              ("res_id", "in", advisory.receipt_ids.ids)])
        self.assertEqual(len(mails), len(advisory.receipt_ids), "one e-mail per recipient")
        for mail in mails:
            self.assertEqual(len(mail.recipient_ids), 1)
            self.assertIn(SECRET, mail.body_html)
        receipt = advisory.receipt_ids.filtered(lambda r: r.partner_id == self.recipient.partner_id)
        self.assertFalse(receipt._acknowledge(token="wrong"))
        self.assertFalse(receipt.ack_date)
        self.assertTrue(receipt._acknowledge(token=receipt.sudo().token))
        self.assertTrue(receipt.ack_date)
        self.assertEqual(advisory.receipt_ack_count, 1)

        # Scheduled publication at the embargo date, not before
        self.env["security.advisory"]._cron_publish_embargoed()
        self.assertEqual(advisory.state, "broadcast")
        # as the server (the advisory's own environment is the Editor's who drafted it)
        advisory.with_env(self.env).write({
            "broadcast_date": fields.Datetime.now() - timedelta(days=21),
            "embargo_date": fields.Datetime.now() - timedelta(minutes=1)})
        self.env["security.advisory"]._cron_publish_embargoed()
        self.assertEqual(advisory.state, "public")
        self.assertTrue(advisory.published_date)
        # Revisions: broadcast, public, then a correction
        advisory.with_user(self.team_admin).write({"solution": "Update to 18.0.2"})
        self.assertEqual(advisory.revision_ids.mapped("summary")[:2],
                         ["Private broadcast", "Public release"])
        self.assertEqual(advisory.revision, 3)
        self.assertIn("Solution", advisory.revision_ids[-1].summary)
        advisory.with_user(self.team_admin).action_withdraw()
        self.assertEqual(advisory.state, "withdrawn")

    def test_embargo_warning_and_no_recipient(self):
        advisory = self._advisory(report_ids=[(5, 0, 0)])
        advisory.with_user(self.team_admin).action_approve()
        advisory.with_user(self.team_admin).embargo_date = fields.Datetime.now() + timedelta(days=120)
        self.assertIn("90", advisory.embargo_warning)
        advisory.with_user(self.team_admin).embargo_date = fields.Datetime.now() + timedelta(days=30)
        self.assertFalse(advisory.embargo_warning)
        (self.customer | self.expired).advisory_subscriber = False
        with self.assertRaisesRegex(UserError, "No recipient"):
            advisory.with_user(self.team_admin).action_broadcast()
        self.assertEqual(advisory.state, "approved")

    def test_followers_of_unpublished_advisory_are_team_only(self):
        advisory = self._advisory()
        with self.assertRaisesRegex(UserError, "Only members of the Security team"):
            advisory.with_user(self.team_editor).message_subscribe(
                partner_ids=self.out_editor.partner_id.ids)
        advisory.with_user(self.team_editor).message_subscribe(
            partner_ids=self.team_viewer.partner_id.ids)
        self.assertIn(self.team_viewer.partner_id, advisory.message_partner_ids)
        # Naming an outsider as recipient of a message is refused the same way
        with self.assertRaisesRegex(UserError, "Only members of the Security team"):
            advisory.with_user(self.team_editor).message_post(
                body="FYI", partner_ids=self.out_editor.partner_id.ids)
        message = advisory.with_user(self.team_editor).message_post(
            body="FYI", partner_ids=self.team_admin.partner_id.ids)
        self.assertEqual(message.partner_ids, self.team_admin.partner_id)

    def test_credits_only_with_consent(self):
        anonymous = make_report(self.env, self.other_reporter.partner_id, credit_preference="none")
        alias = make_report(self.env, self.env["res.partner"], reporter_name=False,
                            reporter_email=False, credit_preference="alias", credit_name="z3r0")
        advisory = self._advisory(report_ids=[(6, 0, (self.report | anonymous | alias).ids)])
        self.assertEqual(advisory.credit_names, "Alice Finder, z3r0")
