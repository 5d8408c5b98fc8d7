"""THE leak test: before the embargo ends nobody outside the security team and
the recipients reaches anything of the advisory, by any path; recipients do;
after the scheduled job everyone reaches the public version."""
import json
import xmlrpc.client
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from odoo.addons.security_roles.tests.common import password_logins_for_admins

from ..lib import csaf as csaf_lib
from ..lib import osv as osv_lib
from .common import (SECRET, TEAM, broadcast, disclosure_users, make_advisory, make_report,
                     secret_reaching)

CONFIDENTIAL = ["security.advisory", "security.advisory.receipt"]


@tagged("post_install", "-at_install")
class TestEmbargoLeak(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        password_logins_for_admins(cls.env)
        disclosure_users(cls)
        env = cls.env
        cls.report = make_report(env, cls.reporter.partner_id)
        cls.other_report = make_report(env, cls.other_reporter.partner_id,
                                       title="Another issue")
        # A real portal token of a linked report opens the report, never the advisory.
        cls.report_token = cls.report._portal_ensure_token()
        editor_env = env(user=cls.team_editor)
        cls.advisory = make_advisory(editor_env, cls.report)
        cls.patch = env["ir.attachment"].with_user(cls.team_editor).create({
            "name": "fix.patch", "raw": f"--- a\n+++ b\n{SECRET}\n".encode(),
            "res_model": "security.advisory", "res_id": cls.advisory.id})
        cls.advisory.with_user(cls.team_editor).patch_attachment_ids = cls.patch
        # A file of the team's chatter is not a patch: never published.
        cls.chatter_file = env["ir.attachment"].with_user(cls.team_editor).create({
            "name": "exploit.py", "raw": f"exploit {SECRET}".encode(),
            "res_model": "security.advisory", "res_id": cls.advisory.id})
        cls.advisory.with_user(cls.team_editor).message_post(
            body=f"Internal discussion {SECRET}", message_type="comment",
            subtype_xmlid="mail.mt_comment")
        cls.advisory.with_user(cls.team_editor).message_post(
            body=f"Note {SECRET}", subtype_xmlid="mail.mt_note")
        cls.advisory.with_user(cls.team_editor).activity_schedule(
            "mail.mail_activity_data_todo", user_id=cls.team_admin.id, note=f"Todo {SECRET}")
        cls.advisory.with_user(cls.team_editor).action_send_to_reporter()
        cls.advisory._reporter_approve(cls.reporter.partner_id)
        cls.advisory.with_user(cls.team_admin).action_approve()
        broadcast(cls.advisory, cls.team_admin)
        cls.outsiders_internal = {
            "viewer": (cls.out_viewer, "out-viewer-pass"),
            "editor": (cls.out_editor, "out-editor-pass"),
            "admin": (cls.out_admin, "out-admin-pass"),
            "owner": (cls.owner, "admin"),
        }
        cls.outsiders_portal = {
            "portal non-recipient": (cls.stranger, "stranger-pass"),
            "reporter of another report": (cls.other_reporter, "other-reporter-pass"),
        }

    # ----------------------------------------------------------------- helpers
    def _orm_paths_blind(self, user, who):
        """Every ORM path (as RPC would use it) finds nothing of the advisory."""
        env = self.env(user=user)
        advisory = self.advisory.with_env(env)
        Advisory = env["security.advisory"]
        self.assertFalse(Advisory.search([]), who)
        self.assertFalse(Advisory.search([("id", "=", self.advisory.id)]), who)
        self.assertFalse(Advisory.search_read([], ["title"]), who)
        self.assertFalse(Advisory.search_count([]), who)
        groups = Advisory.read_group([], ["state"], ["state"])
        self.assertFalse([g for g in groups if g["state_count"]], who)
        self.assertFalse(advisory.has_access("read"), who)
        with self.assertRaises(Exception, msg=who):
            advisory.read(["title"])
        Message = env["mail.message"]
        self.assertFalse(Message.search([("model", "=", "security.advisory")]), who)
        self.assertFalse(Message.search([("body", "ilike", SECRET)]), who)
        for message in self.advisory.sudo().message_ids:
            self.assertFalse(message.with_env(env).has_access("read"), f"{who}: {message.body}")
        if env["ir.attachment"].has_access("read"):
            self.assertFalse(env["ir.attachment"].search(
                [("res_model", "=", "security.advisory")]), who)
        self.assertFalse(self.patch.with_env(env).has_access("read"), who)
        with self.assertRaises(Exception, msg=who):
            self.patch.with_env(env).read(["raw"])
        if env["mail.activity"].has_access("read"):
            self.assertFalse(env["mail.activity"].search(
                [("res_model", "in", CONFIDENTIAL)]), who)
        if env["mail.followers"].has_access("read"):
            self.assertFalse(env["mail.followers"].search(
                [("res_model", "in", CONFIDENTIAL)]), who)
        for model in ("mail.mail", "mail.tracking.value", "security.advisory.receipt",
                      "security.advisory.revision"):
            Model = env[model]
            if Model.has_access("read"):
                if model == "mail.mail":
                    domain = [("model", "in", CONFIDENTIAL)]
                elif model == "mail.tracking.value":
                    domain = [("mail_message_id.model", "in", CONFIDENTIAL)]
                else:
                    domain = []
                self.assertFalse(Model.search(domain), f"{who}: {model}")

    def _http_paths_blind(self, who, logged_in=False):
        """Every HTTP path of this session finds nothing of the advisory."""
        ref, adv_id = self.advisory.name, self.advisory.id
        urls = [
            f"/security/advisories/{ref}", f"/security/advisories/{ref}/csaf.json",
            f"/security/advisories/{ref}/osv.json",
            f"/security/advisories/{ref}/files/{self.patch.id}",
            f"/my/security/advisories/{adv_id}",
            f"/my/security/advisories/{adv_id}/files/{self.patch.id}",
            f"/web/content/{self.patch.id}", f"/web/content/{self.patch.id}?download=true",
            f"/web/content/ir.attachment/{self.patch.id}/datas",
            f"/web/content/security.advisory/{adv_id}/title",
            f"/web/image/security.advisory/{adv_id}/title",
            f"/web/content/{self.patch.id}?access_token=x",
            f"/web/content/{self.patch.id}?access_token={self.report_token}",
            f"/my/security/advisories/{adv_id}?access_token={self.report_token}",
        ]
        for url in urls:
            response = self.url_open(url, allow_redirects=False)
            self.assertNotIn(SECRET, response.text, f"{who}: {url}")
            if url.startswith("/web/image"):
                # /web/image answers a placeholder picture instead of an error
                self.assertTrue(response.headers["Content-Type"].startswith("image/"), url)
            else:
                self.assertNotEqual(response.status_code, 200, f"{who}: {url}")
        for url in ("/security/advisories", "/security/advisories/feed.json",
                    "/my/security/advisories", "/security/hall-of-fame", "/my/home"):
            response = self.url_open(url)
            self.assertNotIn(SECRET, response.text, f"{who}: {url}")
            self.assertNotIn(ref, response.text, f"{who}: {url}")
        # Chatter routes, with and without forged portal credentials
        for kwargs in ({}, {"token": "x"}, {"token": self.report_token},
                       {"hash": "x", "pid": self.reporter.partner_id.id}):
            data = self._rpc("/mail/thread/data", {
                "thread_model": "security.advisory", "thread_id": adv_id,
                "request_list": ["followers", "attachments", "suggestedRecipients"], **kwargs})
            self.assertNotIn(SECRET, json.dumps(data), f"{who}: /mail/thread/data {kwargs}")
        if logged_in:
            data = self._rpc("/mail/thread/messages", {
                "thread_model": "security.advisory", "thread_id": adv_id})
            self.assertNotIn(SECRET, json.dumps(data, default=str), who)
            self.assertFalse(data["messages"], f"{who}: /mail/thread/messages")
            # RPC through the web client's endpoint
            for method, args, kwargs in (
                    ("search_read", [[]], {"fields": ["title", "summary"]}),
                    ("web_search_read", [[]], {"specification": {"title": {}}}),
                    ("read_group", [[], ["state"], ["state"]], {}),
                    ("name_search", [SECRET[:9]], {})):
                result = self._rpc("/web/dataset/call_kw", {
                    "model": "security.advisory", "method": method, "args": args,
                    "kwargs": kwargs})
                self.assertNotIn(SECRET, json.dumps(result, default=str), f"{who}: {method}")
                self.assertNotIn(ref, json.dumps(result, default=str), f"{who}: {method}")

    def _rpc(self, route, params):
        try:
            return self.make_jsonrpc_request(route, params)
        except JsonRpcException as exc:
            # An access error is a fine answer; data is not, nor is a crash
            # (which would hide whether the route leaks).
            self.assertRegex(str(exc), "AccessError|SessionExpired|MissingError",
                             f"{route}: {exc}")
            return str(exc)

    def _sees(self, user, password, who):
        self.authenticate(user.login, password)
        page = self.url_open(f"/my/security/advisories/{self.advisory.id}")
        self.assertEqual(page.status_code, 200, who)
        self.assertIn(SECRET, page.text, who)
        listing = self.url_open("/my/security/advisories")
        self.assertIn(self.advisory.name, listing.text, who)
        patch = self.url_open(f"/my/security/advisories/{self.advisory.id}/files/{self.patch.id}")
        self.assertEqual(patch.status_code, 200, who)
        self.assertIn(SECRET, patch.text, who)

    # ------------------------------------------------------------------- tests
    def test_00_setup_is_what_we_think(self):
        self.assertEqual(self.advisory.state, "broadcast")
        self.assertGreater(self.advisory.embargo_date, fields.Datetime.now())
        self.assertFalse(self.owner.has_group(TEAM), "the Owner is not in the team by default")

    def test_01_public_visitor_reaches_nothing(self):
        self._http_paths_blind("public visitor")
        self._orm_paths_blind(self.env.ref("base.public_user"), "public user")

    def test_02_portal_outsiders_reach_nothing(self):
        for who, (user, password) in self.outsiders_portal.items():
            with self.subTest(who=who):
                self._orm_paths_blind(user, who)
                self.authenticate(user.login, password)
                self._http_paths_blind(who, logged_in=True)
                self.logout()

    def test_03_internal_outsiders_reach_nothing(self):
        for role, (user, password) in self.outsiders_internal.items():
            with self.subTest(role=role):
                self.assertFalse(user.has_group(TEAM))
                self._orm_paths_blind(user, role)
                # Nor who the recipients are
                with self.assertRaises(AccessError):
                    self.customer.with_user(user).read(["advisory_subscriber"])
                # ...which does not stop them from working with contacts
                if role in ("admin", "owner"):  # contact managers
                    copy = self.customer.with_user(user).copy()
                    self.assertFalse(copy.sudo().advisory_subscriber)
                self.authenticate(user.login, password)
                self._http_paths_blind(role, logged_in=True)
                self.logout()
                # XML-RPC, as an integration with the user's password would call it
                found = self.xmlrpc_object.execute_kw(
                    self.env.cr.dbname, user.id, password, "security.advisory", "search_read",
                    [[]], {"fields": ["title", "summary"]})
                self.assertEqual(found, [], role)

    def test_03b_reporter_sees_no_draft_before_review(self):
        draft = make_advisory(self.env(user=self.team_editor), self.report,
                              title=f"Second draft {SECRET}")
        env = self.env(user=self.reporter)
        self.assertNotIn(draft, env["security.advisory"].search([]))
        self.authenticate("reporter.portal", "reporter-pass")
        self.assertEqual(self.url_open(f"/my/security/advisories/{draft.id}").status_code, 404)
        self.assertNotIn("Second draft", self.url_open("/my/security/advisories").text)
        # the reporter of the linked report reads the advisory under review and after
        self.assertIn(self.advisory, env["security.advisory"].search([]))

    def test_04_attachment_sharing_refused(self):
        patch = self.patch.with_user(self.team_admin)
        with self.assertRaisesRegex(Exception, "cannot be public or shared"):
            patch.generate_access_token()
        with self.assertRaisesRegex(Exception, "cannot be public or shared"):
            patch.write({"public": True})
        with self.assertRaisesRegex(Exception, "cannot be public or shared"):
            self.env["ir.attachment"].with_user(self.team_admin).create({
                "name": "x", "raw": b"x", "res_model": "security.advisory",
                "res_id": self.advisory.id, "access_token": "known"})
        # A token set behind the ORM's back (e.g. by an old version) opens nothing.
        self.env.cr.execute("UPDATE ir_attachment SET access_token = 'leaked', public = true "
                            "WHERE id = %s", [self.patch.id])
        self.patch.invalidate_recordset()
        for url in (f"/web/content/{self.patch.id}?access_token=leaked",
                    f"/web/content/{self.patch.id}"):
            response = self.url_open(url)
            self.assertNotIn(SECRET, response.text, url)
            self.assertNotEqual(response.status_code, 200, url)

    def test_05_broadcast_mails_reach_recipients_only(self):
        mails = self.env["mail.mail"].search([("model", "=", "security.advisory.receipt")])
        self.assertTrue(mails)
        recipients = mails.recipient_ids
        self.assertIn(self.recipient.partner_id, recipients)
        self.assertNotIn(self.stranger.partner_id, recipients)
        self.assertNotIn(self.other_reporter.partner_id, recipients)
        # Followers (team only) are not notified of the broadcast.
        self.assertLessEqual(set(self.advisory.message_partner_ids.ids),
                             set(self.env.ref(TEAM).users.partner_id.ids))

    def test_06_recipients_and_team_reach_it(self):
        self._sees(self.recipient, "recipient-pass", "recipient")
        # The receipt is acknowledged from the portal
        response = self.url_open(f"/my/security/advisories/{self.advisory.id}/ack", data={
            "csrf_token": self._csrf()})
        self.assertEqual(response.status_code, 200)
        receipt = self.advisory.receipt_ids.filtered(
            lambda r: r.partner_id == self.recipient.partner_id)
        self.assertTrue(receipt.ack_date)
        csaf = self.url_open(f"/security/advisories/{self.advisory.name}/csaf.json").json()
        csaf_lib.validate(csaf)
        self.assertEqual(csaf["document"]["distribution"]["tlp"]["label"], "AMBER")
        self.assertEqual(csaf["document"]["tracking"]["status"], "interim")
        self.logout()
        self._sees(self.reporter, "reporter-pass", "reporter of the linked report")
        self.logout()
        self._sees(self.team_viewer, "team-viewer-pass", "team viewer")
        self.assertTrue(self.advisory.with_user(self.team_viewer).search_read([], ["title"]))

    def test_08_receipt_link_from_the_email(self):
        receipt = self.advisory.receipt_ids.filtered(
            lambda r: r.partner_id == self.recipient.partner_id)
        url = f"/security/advisories/ack/{receipt.id}/{receipt.sudo().token}"
        self.assertEqual(self.url_open(f"/security/advisories/ack/{receipt.id}/forged")
                         .status_code, 404)
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        self.assertNotIn(SECRET, page.text)
        self.assertFalse(receipt.ack_date, "following the link alone records nothing")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        self.assertEqual(self.url_open(url, data={"csrf_token": csrf}).status_code, 200)
        self.assertTrue(receipt.ack_date)

    def test_09_hostile_outside_admin_reaches_nothing(self):
        """A workspace Admin outside the team tries, over XML-RPC, every path it
        controls to the advisory: the module's alias, templates and sequences,
        a user on a recipient's contact or its own account moved there, the
        recipient's or a team member's password, a report of its own linked to
        the advisory through the mail gateway, merging contacts, following the
        advisory and its report, rendering it in a composer or a template
        preview. Then the team keeps working on it, and the leak assertions
        still hold for the Admin and for the portal account it controls."""
        mallory = new_test_user(self.env, "mallory.portal", "base.group_portal",
                                password="mallory-portal-pass", email="mallory@evil.example")
        admin, db = self.out_admin, self.env.cr.dbname
        mine = (admin.partner_id | mallory.partner_id).ids

        def model_id(name):
            return self.env["ir.model"]._get_id(name)

        def attempt(model, method, *args, **kw):
            try:
                return self.xmlrpc_object.execute_kw(db, admin.id, "out-admin-pass", model,
                                                     method, list(args), kw)
            except xmlrpc.client.Fault as fault:
                return fault.faultString
        email = ("From: Mallory <mallory@evil.example>\nTo: security@example.com\n"
                 "Subject: Me too\nMessage-Id: <mallory-1@evil.example>\n\nDetails")
        receipt = self.advisory.receipt_ids[:1]
        answers = {
            "alias defaults": attempt(
                "mail.alias", "write",
                self.env.ref("security_disclosure.mail_alias_security_report").ids,
                {"alias_defaults": "{'reporter_partner_id': %d, 'advisory_ids': [(4, %d)]}"
                 % (mallory.partner_id.id, self.advisory.id)}),
            "copy of the broadcast": attempt(
                "mail.template", "write",
                self.env.ref("security_disclosure.mail_template_advisory_broadcast").ids,
                {"email_cc": "mallory@evil.example"}),
            "its own broadcast template": attempt("mail.template", "create", {
                "name": "Mine", "model_id": model_id("security.advisory.receipt"),
                "partner_to": str(admin.partner_id.id),
                "body_html": "<p>{{ object.advisory_id.title }}</p>"}),
            "renumbering": attempt(
                "ir.sequence", "write",
                self.env.ref("security_disclosure.seq_security_advisory").ids,
                {"number_next": 1}),
            "user on the subscriber": attempt("res.users", "create", {
                "name": "Mallory", "login": "mallory.subscriber", "partner_id": self.customer.id,
                "groups_id": [(6, 0, self.env.ref("base.group_portal").ids)]}),
            "own account moved to the recipient": attempt(
                "res.users", "write", mallory.ids, {"partner_id": self.recipient.partner_id.id}),
            "own contact under the subscriber": attempt(
                "res.partner", "write", mallory.partner_id.ids, {"parent_id": self.customer.id}),
            "merged into the subscriber": attempt(
                "base.partner.merge.automatic.wizard", "action_merge", [attempt(
                    "base.partner.merge.automatic.wizard", "create", {
                        "partner_ids": [(6, 0, [mallory.partner_id.id, self.customer.id])],
                        "dst_partner_id": self.customer.id})]),
            "recipient's password": attempt(
                "res.users", "write", self.recipient.ids, {"password": "mallory-pass-1"}),
            "reporter's login": attempt(
                "res.users", "write", self.reporter.ids, {"login": "mallory.reporter"}),
            "team member's password": attempt(
                "res.users", "write", self.team_viewer.ids, {"password": "mallory-pass-2"}),
            "reporter by e-mail": attempt(
                "mail.thread", "message_process", "security.report", email,
                {"reporter_partner_id": mallory.partner_id.id,
                 "advisory_ids": [(6, 0, self.advisory.ids)]}),
            "follows the advisory": attempt("mail.followers", "create", {
                "res_model": "security.advisory", "res_id": self.advisory.id,
                "partner_id": admin.partner_id.id,
                "subtype_ids": [(6, 0, [self.env.ref("mail.mt_comment").id,
                                        self.env.ref("mail.mt_note").id])]}),
            "follows the report": attempt("mail.followers", "create", {
                "res_model": "security.report", "res_id": self.report.id,
                "partner_id": admin.partner_id.id,
                "subtype_ids": [(6, 0, [self.env.ref("mail.mt_comment").id,
                                        self.env.ref("mail.mt_note").id])]}),
            "subscribes through the document": attempt(
                "security.advisory", "message_subscribe", self.advisory.ids, mine),
            "composer": attempt("mail.compose.message", "action_send_mail", [attempt(
                "mail.compose.message", "create", {
                    "model": "security.advisory", "res_ids": str(self.advisory.ids),
                    "composition_mode": "mass_mail", "subject": "{{ object.title }}",
                    "body": "<p>{{ object.summary }}</p>",
                    "partner_ids": [(6, 0, mine)]})]),
            "template preview": attempt("mail.template.preview", "read", [attempt(
                "mail.template.preview", "create", {
                    "mail_template_id": self.env.ref(
                        "security_disclosure.mail_template_advisory_broadcast").id,
                    "resource_ref": f"security.advisory.receipt,{receipt.id}"})],
                ["subject", "body_html"]),
        }
        for what, answer in answers.items():
            self.assertNotIn(SECRET, str(answer), what)
        # the team keeps working on the advisory
        self.advisory.with_user(self.team_editor).message_post(
            body=f"After the attack {SECRET}", message_type="comment",
            subtype_xmlid="mail.mt_comment")
        self.advisory.with_user(self.team_editor).message_post(
            body=f"Note after the attack {SECRET}", subtype_xmlid="mail.mt_note")
        self.report.with_user(self.team_editor).message_post(
            body=f"Triage note {SECRET}", subtype_xmlid="mail.mt_note")
        self.advisory.with_user(self.team_admin).write({"summary": f"Revised {SECRET}"})
        # what an e-mail to the alias creates carries nobody of the Admin's
        alias = self.env.ref("security_disclosure.mail_alias_security_report")
        self.assertNotIn("reporter_partner_id", alias.alias_defaults)
        self.assertEqual(self.advisory.report_ids, self.report)
        self.assertFalse(self.env["security.report"].search(
            [("reporter_partner_id", "in", mine)]))
        # nothing reached the Admin or its portal account, by mail or otherwise
        self.assertFalse(secret_reaching(self.env, admin.partner_id | mallory.partner_id,
                                         ["mallory@evil.example", admin.email]))
        self.assertFalse(self.env["res.users"].search([("partner_id", "in", (
            self.customer | self.recipient.partner_id | self.reporter.partner_id).ids),
            ("id", "not in", (self.recipient | self.reporter).ids)]))
        for user, password, who in ((admin, "out-admin-pass", "hostile Admin"),
                                    (mallory, "mallory-portal-pass", "its portal account")):
            with self.subTest(who=who):
                self._orm_paths_blind(user, who)
                self.authenticate(user.login, password)
                self._http_paths_blind(who, logged_in=True)
                self.logout()
        for user, password in ((self.recipient, "recipient-pass"),
                               (self.team_viewer, "team-viewer-pass")):
            self.assertEqual(self.xmlrpc_common.authenticate(db, user.login, password, {}),
                             user.id)

    def _csrf(self):
        page = self.url_open(f"/my/security/advisories/{self.advisory.id}")
        marker = 'name="csrf_token" value="'
        start = page.text.index(marker) + len(marker)
        return page.text[start:page.text.index('"', start)]

    def test_07_after_embargo_everyone_reaches_public_version(self):
        # as the server (the advisory's own environment is the Editor's who drafted it)
        self.advisory.with_env(self.env).write({
            "broadcast_date": fields.Datetime.now() - timedelta(days=21),
            "embargo_date": fields.Datetime.now() - timedelta(seconds=1)})
        self.env.ref("security_disclosure.ir_cron_publish_embargoed").method_direct_trigger()
        self.assertEqual(self.advisory.state, "public")
        ref = self.advisory.name
        sessions = [("public visitor", None, None)] + [
            (who, user, password) for who, (user, password) in
            {**self.outsiders_portal, **self.outsiders_internal}.items()]
        for who, user, password in sessions:
            with self.subTest(who=who):
                if user:
                    self.authenticate(user.login, password)
                page = self.url_open(f"/security/advisories/{ref}")
                self.assertEqual(page.status_code, 200, who)
                self.assertIn(SECRET, page.text, who)
                self.assertIn("Alice Finder", page.text, "credited with consent")
                self.assertIn(ref, self.url_open("/security/advisories").text, who)
                feed = self.url_open("/security/advisories/feed.json").json()
                self.assertIn(ref, [item["id"] for item in feed["items"]], who)
                csaf = self.url_open(f"/security/advisories/{ref}/csaf.json").json()
                csaf_lib.validate(csaf)
                self.assertEqual(csaf["document"]["tracking"]["status"], "final")
                self.assertEqual(csaf["document"]["distribution"]["tlp"]["label"], "WHITE")
                osv = self.url_open(f"/security/advisories/{ref}/osv.json").json()
                self.assertEqual(osv["id"], ref)
                osv_lib.validate(osv)
                self.assertEqual(osv["severity"][0]["type"], "CVSS_V3")
                patch = self.url_open(f"/security/advisories/{ref}/files/{self.patch.id}")
                self.assertEqual(patch.status_code, 200, who)
                exploit = self.url_open(f"/security/advisories/{ref}/files/{self.chatter_file.id}")
                self.assertEqual(exploit.status_code, 404, who)
                self.assertIn("Alice Finder", self.url_open("/security/hall-of-fame").text)
                if user:
                    env = self.env(user=user)
                    self.assertEqual(env["security.advisory"].search([]), self.advisory)
                    # The public version: the team's chatter, receipts and files
                    # stay with the team.
                    leaked = env["mail.message"].search([("body", "ilike", SECRET)])
                    self.assertFalse(leaked, f"{who}: " + repr(leaked.sudo().read(
                        ["model", "message_type", "author_id", "partner_ids", "body"])))
                    leaked = env["mail.message"].search([("model", "=", "security.advisory")])
                    self.assertFalse(leaked, f"{who}: " + repr(leaked.sudo().read(
                        ["message_type", "author_id", "partner_ids", "subtype_id", "body"])))
                    if env["mail.activity"].has_access("read"):
                        self.assertFalse(env["mail.activity"].search(
                            [("res_model", "=", "security.advisory")]), who)
                    self.logout()
        # Withdrawn: still listed, marked withdrawn; OSV says so.
        self.advisory.with_user(self.team_admin).action_withdraw()
        osv = self.url_open(f"/security/advisories/{ref}/osv.json").json()
        self.assertIn("withdrawn", osv)
