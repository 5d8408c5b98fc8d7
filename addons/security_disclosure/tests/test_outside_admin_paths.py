"""More paths an Admin outside the Security team controls, found by a hostile
review, each closed for the class it belongs to: delivery paths of a team
member's notifications (push devices, queued pushes), files not yet with their
document (composer uploads, scheduled messages), what rides along a message
(link previews, scheduled messages), who sees which messages (subtypes), the
address of a reporter, who reviews an advisory, and a report's reference."""
import json
import xmlrpc.client

from odoo.tests import HttpCase, tagged

from odoo.addons.security_roles.tests.common import password_logins_for_admins

from .common import SECRET, disclosure_users, make_advisory, make_report


@tagged("post_install", "-at_install")
class TestOutsideAdminPaths(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        password_logins_for_admins(cls.env)
        disclosure_users(cls)
        cls.report = make_report(cls.env, cls.reporter.partner_id)
        cls.advisory = make_advisory(cls.env(user=cls.team_editor), cls.report)
        cls.message = cls.advisory.with_user(cls.team_editor).message_post(
            body=f"Team note {SECRET}", subtype_xmlid="mail.mt_note")

    def admin_rpc(self, model, method, *args, **kw):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.out_admin.id,
                                             "out-admin-pass", model, method, list(args), kw)

    def assert_blind(self, result, what):
        self.assertNotIn(SECRET, json.dumps(result, default=str), what)

    def test_push_notifications_of_team_members(self):
        keys = json.dumps({"p256dh": "x", "auth": "y"})
        with self.assertRaises(xmlrpc.client.Fault):
            self.admin_rpc("mail.push.device", "create", {
                "partner_id": self.team_editor.partner_id.id,
                "endpoint": "http://127.0.0.2:9/push", "keys": keys})
        self.assertFalse(self.env["mail.push.device"].search(
            [("partner_id", "=", self.team_editor.partner_id.id)]))
        # queued pushes carry the message: nobody reads them through the ORM
        device = self.env["mail.push.device"].sudo().create({
            "partner_id": self.team_editor.partner_id.id,
            "endpoint": "http://127.0.0.1:9/own", "keys": keys})
        self.env["mail.push"].sudo().create({"mail_push_device_id": device.id,
                                             "payload": f"Team note {SECRET}"})
        self.assert_blind(self.admin_rpc("mail.push", "search_read", []), "mail.push")
        # an Admin's own device stays the Admin's to register
        self.admin_rpc("mail.push.device", "create", {
            "partner_id": self.out_admin.partner_id.id, "endpoint": "http://127.0.0.1:9/mine",
            "keys": keys})

    def test_files_not_yet_with_their_document(self):
        Attachment = self.env["ir.attachment"].with_user(self.team_editor)
        pending = Attachment.create({"name": "poc.py", "raw": f"poc {SECRET}".encode(),
                                     "res_model": "mail.compose.message", "res_id": 0})
        scheduled = Attachment.create({"name": "later.txt", "raw": f"later {SECRET}".encode(),
                                       "res_model": "mail.scheduled.message", "res_id": 1})
        pending, scheduled = pending.sudo(), scheduled.sudo()
        for staged in (pending, scheduled):
            self.assert_blind(self.admin_rpc(
                "ir.attachment", "search_read", [("res_model", "=", staged.res_model)],
                fields=["name", "raw"]), staged.res_model)
            with self.assertRaises(xmlrpc.client.Fault):
                self.admin_rpc("ir.attachment", "read", staged.ids, ["raw"])
        self.authenticate("out.admin", "out-admin-pass")
        for staged in (pending, scheduled):
            response = self.url_open(f"/web/content/{staged.id}")
            self.assertNotIn(SECRET, response.text)
            self.assertNotEqual(response.status_code, 200)
        # the uploader reads its own
        self.assertIn(SECRET, pending.with_user(self.team_editor).search_read(
            [("id", "=", pending.id)], ["raw"])[0]["raw"].decode())

    def test_what_rides_along_a_message(self):
        self.env["mail.link.preview"].create({
            "source_url": "http://127.0.0.1:9/poc", "og_title": f"PoC {SECRET}",
            "message_id": self.message.id})
        self.env["mail.scheduled.message"].create({
            "model": "security.advisory", "res_id": self.advisory.id,
            "body": f"Later {SECRET}", "author_id": self.team_editor.partner_id.id,
            "scheduled_date": "2099-01-01 00:00:00"})
        for model in ("mail.link.preview", "mail.scheduled.message"):
            self.assert_blind(self.admin_rpc(model, "search_read", []), model)

    def test_who_sees_which_messages(self):
        note = self.env.ref("mail.mt_note")
        for vals in ({"internal": False}, {"default": True}, {"hidden": False}):
            with self.assertRaises(xmlrpc.client.Fault, msg=str(vals)):
                self.admin_rpc("mail.message.subtype", "write", note.ids, vals)
        self.assertTrue(note.internal)
        with self.assertRaises(xmlrpc.client.Fault):
            self.admin_rpc("mail.message.subtype", "create",
                           {"name": "Leaky", "res_model": "security.advisory", "default": True})

    def test_the_address_of_a_reporter(self):
        web_reporter = self.env["res.partner"].create({"name": "Web reporter",
                                                       "email": "web@researcher.example"})
        make_report(self.env, web_reporter, title="Another")
        for partner in (web_reporter, self.reporter.partner_id):
            with self.assertRaises(xmlrpc.client.Fault, msg=partner.name):
                self.admin_rpc("res.partner", "write", partner.ids,
                               {"email": "mallory@evil.example"})
        self.assertEqual(web_reporter.email, "web@researcher.example")

    def test_who_reviews_an_advisory_is_an_admins_call(self):
        self.advisory.with_user(self.team_editor).action_send_to_reporter()
        self.assertEqual(self.advisory.state, "review")
        with self.assertRaises(xmlrpc.client.Fault):
            self.xmlrpc_object.execute_kw(
                self.env.cr.dbname, self.team_editor.id, "team-editor-pass", "security.report",
                "write", [self.report.ids, {"reporter_partner_id": self.stranger.partner_id.id}])
        self.assertEqual(self.report.reporter_partner_id, self.reporter.partner_id)
        self.assertFalse(self.advisory.with_user(self.stranger).search_read([], ["title"]))

    def test_a_reference_never_comes_from_an_email_subject(self):
        raw = ("From: Eve <eve@researcher.example>\r\nTo: security@example.com\r\n"
               f"Subject: SQLi in /web {SECRET}\r\nMessage-Id: <poc-1@researcher.example>\r\n"
               "Content-Type: text/plain\r\n\r\nSteps to reproduce\r\n")
        report_id = self.env["mail.thread"].message_process("security.report", raw)
        report = self.env["security.report"].browse(report_id)
        self.assertNotIn(SECRET, report.name)
        self.assertIn(SECRET, report.title)
        self.assertTrue(report.name.startswith(self.report.name[:4]), report.name)
