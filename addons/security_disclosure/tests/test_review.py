"""Findings of the security review of 2026-11-21: each test fails without its fix."""
import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from .common import SECRET, TEAM, broadcast, disclosure_users, make_advisory, make_report

# refused by the team guard, or first by security_roles (groups and rules are the Owner's)
GUARD = "Only an Admin of the Security team or the Owner|Only the Owner can"


@tagged("post_install", "-at_install")
class TestReviewFindings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        disclosure_users(cls)
        cls.report = make_report(cls.env, cls.reporter.partner_id)
        cls.team = cls.env.ref(TEAM)

    def _approved(self, **vals):
        advisory = make_advisory(self.env(user=self.team_editor), self.report, **vals)
        advisory.with_user(self.team_editor).action_send_to_reporter()
        advisory._reporter_approve(self.reporter.partner_id)
        advisory.with_user(self.team_admin).action_approve()
        self.assertEqual(advisory.state, "approved")
        return advisory

    # ------------------------------------------------------------------ H1
    def test_h1_outsiders_cannot_add_or_redirect_recipients(self):
        # An Admin outside the team manages contacts, but a new contact under
        # a subscriber receives nothing: the team marks recipients.
        intruder = self.env["res.partner"].with_user(self.out_admin).create({
            "name": "Mallory", "email": "mallory@evil.example", "parent_id": self.customer.id})
        with self.assertRaises(AccessError):
            intruder.with_user(self.out_admin).write({"advisory_recipient": True})
        recipients = self.env["res.partner"]._security_advisory_recipients()
        self.assertEqual(recipients, self.recipient.partner_id)
        # Nor can they redirect an existing recipient: address or company.
        victim = self.recipient.partner_id.with_user(self.out_admin)
        for vals in ({"email": "mallory@evil.example"}, {"parent_id": False}):
            with self.subTest(vals=vals), self.assertRaisesRegex(AccessError, "Security team only"):
                victim.write(vals)
        self.assertEqual(self.recipient.partner_id.email, "ops@subscriber.example")
        # ...while other contacts stay theirs to edit.
        intruder.with_user(self.out_admin).write({"email": "mallory2@evil.example"})
        # A team Admin maintains the list.
        self.recipient.partner_id.with_user(self.team_admin).email = "sec@subscriber.example"
        intruder.with_user(self.team_admin).advisory_recipient = True
        self.assertIn(intruder, self.env["res.partner"]._security_advisory_recipients())

    def test_h1_admin_confirms_the_list_and_it_must_not_change(self):
        advisory = self._approved()
        action = advisory.with_user(self.team_admin).action_broadcast()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(advisory.state, "approved", "opening the wizard sends nothing")
        self.assertEqual(wizard.partner_ids, self.recipient.partner_id)
        with self.assertRaises(AccessError):
            wizard.with_user(self.team_editor).action_confirm()
        # The list changes behind the Admin's back: refused, nothing sent.
        colleague = self.env["res.partner"].create({
            "name": "Second", "email": "second@subscriber.example",
            "parent_id": self.customer.id, "advisory_recipient": True})
        with self.assertRaisesRegex(UserError, "changed since you opened it"):
            wizard.with_user(self.team_admin).action_confirm()
        self.assertEqual(advisory.state, "approved")
        wizard = broadcast(advisory, self.team_admin)
        self.assertEqual(advisory.receipt_ids.partner_id, self.recipient.partner_id | colleague)

    # ------------------------------------------------------------------ H2
    def test_h2_chatter_files_stay_with_the_team(self):
        # An internal recipient and an internal reporter, both outside the team.
        insider = new_test_user(self.env, "insider.recipient", "security_roles.group_role_viewer",
                                email="insider@subscriber.example")
        insider.partner_id.write({"parent_id": self.customer.id, "advisory_recipient": True})
        internal_reporter = new_test_user(self.env, "internal.reporter",
                                          "security_roles.group_role_editor",
                                          email="carol@corp.example")
        own_report = make_report(self.env, internal_reporter.partner_id, title="Own report")
        note_file = self.env["ir.attachment"].with_user(self.team_editor).create({
            "name": "analysis.txt", "raw": f"analysis {SECRET}".encode(),
            "res_model": "security.report", "res_id": own_report.id})
        advisory = self._approved()
        exploit = self.env["ir.attachment"].with_user(self.team_editor).create({
            "name": "exploit.py", "raw": f"exploit {SECRET}".encode(),
            "res_model": "security.advisory", "res_id": advisory.id})
        broadcast(advisory, self.team_admin)
        self.assertTrue(advisory.with_user(insider).has_access("read"), "the recipient reads it")
        self.assertTrue(own_report.with_user(internal_reporter).has_access("read"))
        for user, attachment in ((insider, exploit), (internal_reporter, note_file)):
            with self.subTest(user=user.login):
                Attachment = self.env["ir.attachment"].with_user(user)
                self.assertFalse(attachment.with_user(user).has_access("read"))
                with self.assertRaises(AccessError):
                    attachment.with_user(user).read(["raw"])
                self.assertFalse(Attachment.search([("res_model", "=", attachment.res_model),
                                                    ("res_id", "=", attachment.res_id)]))
        # After publication as well: the advisory is public, its chatter files are not.
        advisory.with_user(self.team_admin).action_publish()
        self.assertFalse(exploit.with_user(self.out_viewer).has_access("read"))
        self.assertFalse(self.env["ir.attachment"].with_user(self.out_viewer).search(
            [("res_model", "=", "security.advisory")]))
        self.assertTrue(exploit.with_user(self.team_viewer).has_access("read"))

    # ------------------------------------------------------------------ H3
    def test_h3_outside_admin_cannot_join_or_disarm_the_team(self):
        members = self.team.users
        admin_env = self.env(user=self.out_admin)
        attempts = {
            "join": lambda: self.out_admin.with_env(admin_env).write(
                {"groups_id": [(4, self.team.id)]}),
            "add to team": lambda: self.team.with_env(admin_env).write(
                {"users": [(4, self.out_admin.id)]}),
            "Editor implies team": lambda: self.env.ref(
                "security_roles.group_role_editor").with_env(admin_env).write(
                {"implied_ids": [(4, self.team.id)]}),
            "empty group implies team": lambda: admin_env["res.groups"].create(
                {"name": "Backdoor", "implied_ids": [(4, self.team.id)]}),
            "deactivate rule": lambda: self.env.ref(
                "security_disclosure.rule_security_advisory_outside").with_env(admin_env).write(
                {"active": False}),
            "widen rule": lambda: self.env.ref(
                "security_disclosure.rule_mail_message_security").with_env(admin_env).write(
                {"domain_force": "[]"}),
            "delete rule": lambda: self.env.ref(
                "security_disclosure.rule_mail_followers_security").with_env(admin_env).unlink(),
            "new group rule": lambda: admin_env["ir.rule"].create({
                "name": "all", "model_id": self.env.ref(
                    "security_disclosure.model_security_advisory").id,
                "groups": [(4, self.env.ref("base.group_user").id)],
                "domain_force": "[(1, '=', 1)]"}),
            "team rule for employees": lambda: self.env.ref("base.group_user").with_env(
                admin_env).write({"rule_groups": [(4, self.env.ref(
                    "security_disclosure.rule_security_advisory_team").id)]}),
            "access right": lambda: self.env.ref(
                "security_disclosure.access_security_advisory_user").with_env(admin_env).write(
                {"perm_write": True}),
        }
        for what, attempt in attempts.items():
            with self.subTest(what=what), self.assertRaisesRegex(AccessError, GUARD):
                with self.env.cr.savepoint():
                    attempt()
        self.env.invalidate_all()
        self.env.registry.clear_cache("groups")
        self.assertEqual(self.team.users, members)
        self.assertFalse(self.out_admin.has_group(TEAM))
        self.assertTrue(self.env.ref("security_disclosure.rule_security_advisory_outside").active)
        # Other groups are no more an Admin's: security definitions are the Owner's
        # (security_roles), who still edits them.
        with self.assertRaisesRegex(AccessError, "Only the Owner can"):
            self.env.ref("security_roles.group_role_editor").with_env(admin_env).write(
                {"comment": "not editable"})
        self.env.ref("security_roles.group_role_editor").with_user(self.owner).write(
            {"comment": "editable by the Owner"})

    def test_h3_team_admin_and_owner_manage_membership_audited(self):
        self.out_editor.with_user(self.team_admin).write({"groups_id": [(4, self.team.id)]})
        self.assertTrue(self.out_editor.has_group(TEAM))
        self.team.with_user(self.owner).write({"users": [(3, self.out_editor.id)]})
        self.assertFalse(self.out_editor.has_group(TEAM))
        if "audit.event" in self.env:
            # denials are committed at once, by any earlier test too: the changes here succeed
            events = self.env["audit.event"].sudo().search(
                [("action", "=", "security_team_protections_change"), ("outcome", "=", "success")])
            self.assertEqual(events.user_id, self.team_admin | self.owner)
            alerts = self.env["audit.alert"].sudo().search([("code", "=", "security_team_changed")])
            self.assertTrue(alerts)

    # ------------------------------------------------------------------ M1
    def test_m1_reporter_does_not_follow_the_draft(self):
        advisory = make_advisory(self.env(user=self.team_editor), self.report)
        advisory.with_user(self.team_editor).action_send_to_reporter()
        advisory._reporter_approve(self.reporter.partner_id)
        self.assertNotIn(self.reporter.partner_id, advisory.message_partner_ids)
        # Any other post by the reporter (as the portal does it, with sudo) would
        # subscribe them: refused by the team check under message_post.
        with self.assertRaisesRegex(UserError, "Only members of the Security team"):
            advisory.with_user(self.reporter).sudo().message_post(
                body="x", author_id=self.reporter.partner_id.id, message_type="comment")

    # ------------------------------------------------------------------ M2
    def test_m2_audience_and_released_content_need_an_admin(self):
        advisory = self._approved()
        with self.assertRaises(AccessError):
            self.env["security.advisory.receipt"].with_user(self.team_editor).create(
                {"advisory_id": advisory.id, "partner_id": self.stranger.partner_id.id})
        other = make_report(self.env, self.other_reporter.partner_id, title="Other")
        with self.assertRaises(AccessError):
            advisory.with_user(self.team_editor).write({"report_ids": [(4, other.id)]})
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            other.with_user(self.team_editor).write({"advisory_ids": [(4, advisory.id)]})
        self.assertNotIn(other, advisory.report_ids)
        broadcast(advisory, self.team_admin)
        receipt = advisory.receipt_ids
        with self.assertRaises(AccessError):
            receipt.with_user(self.team_admin).write({"partner_id": self.stranger.partner_id.id})

    # ------------------------------------------------------------------ M4
    def test_m4_credits_never_fall_back_or_name_the_anonymous(self):
        email_named = self.env["res.partner"].create(
            {"name": "dave@researcher.example", "email": "dave@researcher.example"})
        by_email = make_report(self.env, email_named, reporter_name=False,
                               credit_preference="name", title="By e-mail")
        anonymous = make_report(self.env, self.other_reporter.partner_id, anonymous=True,
                                credit_preference="name", title="Anonymous")
        advisory = make_advisory(self.env(user=self.team_editor), by_email | anonymous)
        self.assertEqual(advisory.sudo()._credits(), [])
        advisory.sudo().report_ids |= self.report
        self.assertEqual(advisory.sudo()._credits(), ["Alice Finder"])

    def test_m2_released_patch_files_need_an_admin(self):
        advisory = make_advisory(self.env(user=self.team_editor), self.report)
        patch = self.env["ir.attachment"].with_user(self.team_editor).create({
            "name": "fix.patch", "raw": b"good fix", "res_model": "security.advisory",
            "res_id": advisory.id})
        advisory.with_user(self.team_editor).patch_attachment_ids = patch
        patch.with_user(self.team_editor).raw = b"better fix"  # a draft is the Editor's
        advisory.with_user(self.team_editor).action_send_to_reporter()
        advisory._reporter_approve(self.reporter.partner_id)
        advisory.with_user(self.team_admin).action_approve()
        with self.assertRaisesRegex(AccessError, "Admin"):
            patch.with_user(self.team_editor).write({"raw": b"backdoor"})
        with self.assertRaisesRegex(AccessError, "Admin"):
            patch.with_user(self.team_editor).unlink()
        self.assertEqual(patch.raw, b"better fix")
        broadcast(advisory, self.team_admin)
        snapshot = advisory.sudo().revision_ids[-1:].snapshot
        self.assertIn(patch.checksum, snapshot)
        # what was sent changes: a revision records the new file, then its removal
        revisions = advisory.sudo().revision
        patch.with_user(self.team_admin).raw = b"admin's fix"
        advisory.invalidate_recordset()
        self.assertEqual(advisory.sudo().revision, revisions + 1)
        last = advisory.sudo().revision_ids.sorted("number")[-1]
        self.assertIn("fix.patch", last.summary)
        self.assertIn(patch.checksum, last.snapshot)
        patch.with_user(self.team_admin).unlink()
        advisory.invalidate_recordset()
        last = advisory.sudo().revision_ids.sorted("number")[-1]
        self.assertEqual((advisory.sudo().revision, last.number), (revisions + 2, revisions + 2))
        self.assertIn("fix.patch", last.summary)
        self.assertNotIn("fix.patch", last.snapshot)

    # ------------------------------------------------------------------ M5
    def test_m5_embargo_date_in_the_future_and_admin_only(self):
        advisory = self._approved()
        with self.assertRaises(AccessError):
            advisory.with_user(self.team_editor).write(
                {"embargo_date": fields.Datetime.now() + timedelta(days=30)})
        with self.assertRaisesRegex(ValidationError, "in the future"):
            advisory.with_user(self.team_admin).write(
                {"embargo_date": fields.Datetime.now() - timedelta(days=1)})
        # A date that passed meanwhile is refused at broadcast time.
        advisory.with_env(self.env).embargo_date = fields.Datetime.now() - timedelta(minutes=1)
        with self.assertRaisesRegex(UserError, "has passed"):
            broadcast(advisory, self.team_admin)
        self.assertEqual(advisory.state, "approved")

    # ------------------------------------------------------------------ M6
    def test_m6_approvals_bind_the_content(self):
        advisory = make_advisory(self.env(user=self.team_editor), self.report)
        with self.assertRaises(AccessError):
            advisory.with_user(self.team_editor).write(
                {"approver_ids": [(6, 0, self.team_editor.ids)]})
        advisory.with_user(self.team_admin).write({"approver_ids": [(6, 0, self.team_editor.ids)]})
        advisory.with_user(self.team_editor).action_send_to_reporter()
        advisory._reporter_approve(self.reporter.partner_id)
        advisory.with_user(self.team_editor).action_approve()
        self.assertTrue(advisory.reporter_approved_date and advisory.approval_user_ids)
        advisory.with_user(self.team_editor).write({"summary": "Quietly changed"})
        self.assertFalse(advisory.reporter_approved_date)
        self.assertFalse(advisory.approval_user_ids)
        with self.assertRaisesRegex(UserError, "reporter has not approved"):
            advisory.with_user(self.team_admin).action_approve()

    # ------------------------------------------------------------------ Low
    def test_l1_ipv6_bucket_and_global_cap(self):
        ICP = self.env["ir.config_parameter"]
        ICP.set_param("security_disclosure.max_per_hour", 2)
        Intake = self.env["security.report.intake"]

        def allow(ip):
            return Intake._admit("web", ip) == "accept"
        self.assertTrue(allow("2001:db8:1:2::1"))
        self.assertTrue(allow("2001:db8:1:2::2"))
        self.assertFalse(allow("2001:db8:1:2:ffff::3"), "same /64")
        self.assertTrue(allow("2001:db8:1:3::1"), "another /64")
        ICP.set_param("security_disclosure.max_total_per_hour", 4)
        self.assertTrue(allow("192.0.2.1"))
        self.assertFalse(allow("192.0.2.2"), "the global cap is spent")
        self.assertEqual(Intake._admit("web", "192.0.2.4"), "hold",
                         "past the global cap: held for review, not refused")
        ICP.set_param("security_disclosure.max_per_hour", "lots")
        ICP.set_param("security_disclosure.max_total_per_hour", 100)
        self.assertTrue(allow("192.0.2.3"), "a bad parameter falls back to 5")

    def test_l7_notifications_stay_with_the_team(self):
        self.report.with_user(self.team_editor).message_post(
            body="For the admin", partner_ids=self.team_admin.partner_id.ids,
            message_type="comment", subtype_xmlid="mail.mt_note")
        notification = self.env["mail.notification"].search(
            [("mail_message_id.model", "=", "security.report")])
        self.assertTrue(notification)
        self.assertTrue(notification.with_user(self.team_viewer).has_access("read"))
        self.assertFalse(notification.with_user(self.out_editor).has_access("read"))
        self.assertFalse(self.env["mail.notification"].with_user(self.out_editor).search(
            [("id", "in", notification.ids)]))

    def test_l9_security_txt_settings_validated(self):
        Settings = self.env["res.config.settings"]
        for contact in ("javascript:alert(1)", "security@example.com", "http://x.example"):
            with self.subTest(contact=contact), self.assertRaisesRegex(
                    ValidationError, "mailto: or https:"):
                Settings.create({"security_txt_contact": contact})
        with self.assertRaisesRegex(ValidationError, "between 1 and 365"):
            Settings.create({"security_txt_expires_days": 0})
        Settings.create({"security_txt_contact":
                         "mailto:security@example.com, https://example.com/security"}).execute()

    def test_l10_duplicate_cycles_refused(self):
        b = make_report(self.env, self.other_reporter.partner_id, title="B")
        c = make_report(self.env, self.other_reporter.partner_id, title="C")
        self.report.duplicate_of_id = b
        b.duplicate_of_id = c
        with self.assertRaisesRegex(ValidationError, "through other reports"):
            c.duplicate_of_id = self.report


@tagged("post_install", "-at_install")
class TestReviewFindingsHttp(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        disclosure_users(cls)
        cls.report = make_report(cls.env, cls.reporter.partner_id)

    def _csrf(self, url):
        page = self.url_open(url)
        marker = 'name="csrf_token" value="'
        start = page.text.index(marker) + len(marker)
        return page.text[start:page.text.index('"', start)]

    def test_m1_portal_review_does_not_subscribe(self):
        advisory = make_advisory(self.env(user=self.team_editor), self.report)
        advisory.with_user(self.team_editor).action_send_to_reporter()
        self.authenticate("reporter.portal", "reporter-pass")
        url = f"/my/security/advisories/{advisory.id}"
        response = self.url_open(f"{url}/review", data={
            "csrf_token": self._csrf(url), "comment": "Looks right", "approve": "1"})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(advisory.reporter_approved_date)
        self.assertIn("Looks right", "".join(advisory.message_ids.mapped("body")))
        self.assertNotIn(self.reporter.partner_id, advisory.message_partner_ids)

    def test_h2_internal_recipient_cannot_download_chatter_file(self):
        insider = new_test_user(self.env, "insider.http", "security_roles.group_role_viewer",
                                password="insider-http-pass", email="in@subscriber.example")
        insider.partner_id.write({"parent_id": self.customer.id, "advisory_recipient": True})
        advisory = make_advisory(self.env(user=self.team_editor), self.report)
        exploit = self.env["ir.attachment"].with_user(self.team_editor).create({
            "name": "exploit.py", "raw": f"exploit {SECRET}".encode(),
            "res_model": "security.advisory", "res_id": advisory.id})
        advisory.with_user(self.team_editor).action_send_to_reporter()
        advisory._reporter_approve(self.reporter.partner_id)
        advisory.with_user(self.team_admin).action_approve()
        broadcast(advisory, self.team_admin)
        self.authenticate("insider.http", "insider-http-pass")
        self.assertIn(SECRET, self.url_open(f"/my/security/advisories/{advisory.id}").text,
                      "the recipient reads the advisory")
        for url in (f"/web/content/{exploit.id}", f"/web/content/{exploit.id}?download=true"):
            response = self.url_open(url)
            self.assertNotEqual(response.status_code, 200, url)
            self.assertNotIn(SECRET, response.text, url)

    def test_m3_report_token_opens_no_team_data_in_chatter_routes(self):
        token = self.report._portal_ensure_token()
        self.report.with_user(self.team_editor).activity_schedule(
            "mail.mail_activity_data_todo", user_id=self.team_admin.id, note=f"Todo {SECRET}")
        self.env["ir.attachment"].with_user(self.team_editor).create({
            "name": f"notes-{SECRET}.txt", "raw": b"x",
            "res_model": "security.report", "res_id": self.report.id})
        self.report.with_user(self.team_editor).message_post(
            body=f"Note {SECRET}", subtype_xmlid="mail.mt_note")
        request = {"thread_model": "security.report", "thread_id": self.report.id,
                   "request_list": ["activities", "attachments", "followers",
                                    "scheduledMessages", "suggestedRecipients"]}
        # The team reads it all through the same route (the request is right).
        self.authenticate("team.viewer", "team-viewer-pass")
        self.assertIn(SECRET, json.dumps(self.make_jsonrpc_request("/mail/thread/data", request)))
        self.logout()
        # Anonymous holder of the token (or a forged hash): the route answers, with nothing.
        for credentials in ({"token": token}, {"hash": "x", "pid": self.reporter.partner_id.id}):
            with self.subTest(credentials=credentials):
                data = self.make_jsonrpc_request("/mail/thread/data",
                                                 dict(request, **credentials))
                self.assertIn('"hasReadAccess": false', json.dumps(data))
                self.assertNotIn(SECRET, json.dumps(data))
        # The logged-in reporter reads their report through the rules: a portal
        # user gets Odoo's access error for each of these, never the data.
        self.authenticate("reporter.portal", "reporter-pass")
        for asked in ("activities", "attachments", "followers", "scheduledMessages"):
            with self.subTest(asked=asked), self.assertRaises(JsonRpcException):
                self.make_jsonrpc_request("/mail/thread/data", dict(
                    request, token=token, request_list=[asked]))
        data = self.make_jsonrpc_request("/mail/thread/data", dict(
            request, token=token, request_list=["suggestedRecipients"]))
        self.assertNotIn(SECRET, json.dumps(data))
        # The token still opens the report's portal page.
        self.logout()
        page = self.url_open(f"/my/security/reports/{self.report.id}?access_token={token}")
        self.assertEqual(page.status_code, 200)

    # ------------------------------------------------------- M4, L4, L5, L6
    def _submit(self, **fields):
        data = {"csrf_token": self._csrf("/security/report"), "title": f"Title {SECRET}",
                "description": "Steps", "email": "", "name": "", "credit_preference": "none"}
        data.update(fields)
        response = self.url_open("/security/report", data=data)
        self.assertEqual(response.status_code, 200, response.text[:500])
        return self.env["security.report"].search([], order="id desc", limit=1)

    def test_m4_anonymous_report_keeps_no_identity(self):
        report = self._submit(anonymous="1", email="anon@hidden.example", name="Real Name",
                              credit_preference="name")
        self.assertTrue(report.anonymous)
        self.assertFalse(report.reporter_partner_id)
        self.assertFalse(report.reporter_name)
        self.assertFalse(report.reporter_email)
        self.assertFalse(report.sudo().submitter_ip)
        self.assertEqual(report.credit_preference, "none")
        self.assertFalse(self.env["res.partner"].search([("email", "=", "anon@hidden.example")]))
        # The address received the acknowledgement, without the title (L4).
        receipt = self.env["mail.mail"].search([("email_to", "=", "anon@hidden.example")])
        self.assertTrue(receipt)
        self.assertIn(report.name, receipt.subject)
        self.assertNotIn(SECRET, receipt.body_html + receipt.subject)

    def test_l5_l6_typed_address_links_to_no_existing_contact(self):
        victim = self.reporter.partner_id
        report = self._submit(email=victim.email, name="Eve <eve@evil.example>")
        self.assertTrue(report.reporter_partner_id)
        self.assertNotEqual(report.reporter_partner_id, victim)
        self.assertEqual(report.reporter_partner_id.email, victim.email)
        self.assertNotIn(report, self.env["security.report"].with_user(self.reporter).search([]))
        self.assertNotIn("evil", report.reporter_partner_id.email)

    def test_l2_oversized_request_refused_before_reading(self):
        body = b"x" * (12 * 1024 * 1024)
        response = self.url_open("/security/report", data={
            "csrf_token": self._csrf("/security/report"), "title": "big",
            "description": "big"}, files={"attachments": ("big.bin", body)})
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.env["security.report"].search([("title", "=", "big")]))

    def test_l9_security_txt_survives_bad_parameters(self):
        ICP = self.env["ir.config_parameter"]
        ICP.set_param("security_disclosure.expires_days", "soon")
        ICP.set_param("security_disclosure.contact", "javascript:alert(1), mailto:sec@example.com")
        response = self.url_open("/.well-known/security.txt")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Contact: mailto:sec@example.com", response.text)
        self.assertNotIn("javascript", response.text)

    def test_l3_markup_removed_but_kept_in_a_file(self):
        payload = '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>'
        report = self._submit(description=f"PoC: {payload}")
        self.assertNotIn("<script", report.description)
        original = self.env["ir.attachment"].search([("res_model", "=", "security.report"),
                                                     ("res_id", "=", report.id)])
        self.assertEqual(original.name, "original-report.txt")
        self.assertEqual(original.mimetype, "text/plain")
        self.assertIn(payload, original.raw.decode())
        # Plain text loses nothing: no extra file.
        plain = self._submit(title="Plain", description="Steps: 1. open /my")
        self.assertFalse(self.env["ir.attachment"].search([
            ("res_model", "=", "security.report"), ("res_id", "=", plain.id)]))
