import re
from datetime import datetime, timezone

from odoo.tests import HttpCase, tagged

from ..lib.securitytxt import parse_security_txt
from .common import disclosure_users

RAW_EMAIL = """Return-Path: <eve@researcher.example>
To: security@example.com
From: Eve Researcher <eve@researcher.example>
Subject: SQL injection in /api/search
Message-ID: <report-1@researcher.example>
Date: Fri, 20 Nov 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"

<p>Steps: send <code>' OR 1=1 --</code></p><script>alert('x')</script>
"""


@tagged("post_install", "-at_install")
class TestIntake(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        disclosure_users(cls)

    def _csrf(self):
        page = self.url_open("/security/report")
        self.assertEqual(page.status_code, 200)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def _post(self, files=None, **fields):
        data = {"csrf_token": self._csrf(), "title": "XSS in the portal",
                "description": "1. open /my\n2. ...", "email": "", "name": "",
                "credit_preference": "none"}
        data.update(fields)
        return self.url_open("/security/report", data=data, files=files)

    def _reports(self):
        return self.env["security.report"].search([])

    def test_form_creates_report_with_ack(self):
        response = self._post(title="Stored <b>XSS</b>", email="carol@researcher.example",
                              name="Carol", credit_preference="name",
                              description="<script>alert(1)</script>Payload: <img src=x onerror=alert(2)> ok")
        self.assertEqual(response.status_code, 200)
        report = self._reports()[:1]
        self.assertIn(report.name, response.text)
        self.assertTrue(report.name.startswith("VR-"))
        self.assertEqual(report.title, "Stored XSS")
        self.assertNotIn("<script", report.description)
        self.assertNotIn("onerror", report.description)
        self.assertIn("Payload:", report.description)
        self.assertEqual(report.channel, "web")
        self.assertEqual(report.reporter_partner_id.email, "carol@researcher.example")
        self.assertEqual(report.credit_preference, "name")
        self.assertEqual(report.submitter_ip, "127.0.0.1")
        mail = self.env["mail.mail"].search([("model", "=", "security.report"),
                                             ("res_id", "=", report.id)])
        self.assertEqual(len(mail), 1, "automatic acknowledgement")
        self.assertIn(report.name, mail.subject)
        self.assertEqual(mail.email_to, "carol@researcher.example")
        # The reporter follows the report with the private link, without an account
        follow = re.search(r'href="(/my/security/reports/\d+\?access_token=[^"]+)"', response.text)
        self.assertTrue(follow)
        page = self.url_open(follow.group(1).replace("&amp;", "&"))
        self.assertEqual(page.status_code, 200)
        self.assertIn("Stored XSS", page.text)
        self.assertEqual(self.url_open(f"/my/security/reports/{report.id}?access_token=wrong")
                         .status_code, 404)

    def test_anonymous_report(self):
        response = self._post(anonymous="1", email="", name="")
        self.assertEqual(response.status_code, 200)
        report = self._reports()[:1]
        self.assertTrue(report.anonymous)
        self.assertFalse(report.reporter_partner_id)
        self.assertFalse(report.reporter_email)

    def test_bad_input_refused_and_kept_in_form(self):
        before = len(self._reports())
        cases = {
            "honeypot": dict(website_url="http://spam.example"),
            "long description": dict(description="A" * 20001),
            "long title": dict(title="T" * 201),
            "empty title": dict(title="<script></script>"),
            "bad e-mail": dict(email="not-an-address"),
        }
        for case, fields in cases.items():
            with self.subTest(case=case):
                response = self._post(**fields)
                self.assertEqual(response.status_code, 400, case)
                self.assertIn("o_security_report_errors", response.text)
        response = self._post(description="Keep me " + "A" * 20001)
        self.assertIn("Keep me", response.text, "the visitor's input is not lost")
        big = ("big.bin", b"0" * (5 * 1024 * 1024 + 1), "application/octet-stream")
        response = self._post(files={"attachments": big})
        self.assertEqual(response.status_code, 400)
        self.assertIn("larger than 5 MB", response.text)
        many = [("attachments", (f"f{i}.txt", b"x", "text/plain")) for i in range(4)]
        response = self._post(files=many)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(len(self._reports()), before, "nothing stored")

    def test_csrf_required(self):
        before = len(self._reports())
        response = self.url_open("/security/report", data={
            "title": "x", "description": "y", "credit_preference": "none"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(len(self._reports()), before)

    def test_flood_limit_per_ip_in_database(self):
        self.env["ir.config_parameter"].set_param("security_disclosure.max_per_hour", 2)
        small = ("poc.txt", b"proof", "text/plain")
        self.assertEqual(self._post(files={"attachments": small}).status_code, 200)
        self.assertEqual(self._post().status_code, 200)
        response = self._post()
        self.assertEqual(response.status_code, 429)
        self.assertIn("Too many reports", response.text)
        self.assertEqual(self.env["security.report.intake"].search_count(
            [("channel", "=", "web"), ("source", "=", "127.0.0.1")]), 2)
        report = self._reports()[1]
        attachment = self.env["ir.attachment"].search([("res_model", "=", "security.report"),
                                                       ("res_id", "=", report.id)])
        self.assertEqual(attachment.raw, b"proof")

    def test_email_alias_creates_report(self):
        thread_id = self.env["mail.thread"].message_process("security.report", RAW_EMAIL)
        report = self.env["security.report"].browse(thread_id)
        self.assertEqual(report.title, "SQL injection in /api/search")
        self.assertEqual(report.channel, "email")
        self.assertIn("OR 1=1", report.description)
        self.assertNotIn("<script", report.description)
        self.assertEqual(report.reporter_email, "eve@researcher.example")
        self.assertEqual(report.reporter_partner_id.email, "eve@researcher.example")
        self.assertIn(report.reporter_partner_id, report.message_partner_ids)
        ack = self.env["mail.mail"].search([("model", "=", "security.report"),
                                            ("res_id", "=", report.id)])
        self.assertTrue(ack and report.name in ack[0].subject)
        alias = self.env.ref("security_disclosure.mail_alias_security_report")
        self.assertEqual(alias.alias_model_id.model, "security.report")

    def test_email_from_an_existing_address_is_not_that_contact(self):
        """Anyone can put anyone's address in From: an e-mail report never
        becomes the report of an existing contact (who would follow it, be
        asked to review its draft advisory and be credited), as on the web form."""
        known = self.env["res.users"].create({
            "name": "Known Portal", "login": "known.portal", "email": "eve@researcher.example",
            "groups_id": [(6, 0, self.env.ref("base.group_portal").ids)]}).partner_id
        thread_id = self.env["mail.thread"].message_process("security.report", RAW_EMAIL)
        report = self.env["security.report"].browse(thread_id)
        reporter = report.reporter_partner_id
        self.assertTrue(reporter)
        self.assertNotEqual(reporter, known)
        self.assertEqual((reporter.email, reporter.name), ("eve@researcher.example", "Eve Researcher"))
        self.assertNotIn(known, report.message_partner_ids)
        self.assertIn(reporter, report.message_partner_ids)
        self.assertEqual(report.message_ids.filtered(lambda m: m.message_type == "email").author_id,
                         reporter)

    def test_security_txt(self):
        self.env["ir.config_parameter"].set_param("security_disclosure.contact",
                                                  "mailto:security@example.com")
        self.env["ir.config_parameter"].set_param("security_disclosure.languages", "en, fr")
        response = self.url_open("/.well-known/security.txt")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))
        fields = parse_security_txt(response.text)
        self.assertEqual(fields["contact"], ["mailto:security@example.com"])
        expires = datetime.strptime(fields["expires"][0], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc)
        self.assertGreater(expires, datetime.now(timezone.utc))
        self.assertEqual(fields["preferred-languages"], ["en, fr"])
        for name in ("policy", "acknowledgments", "canonical"):
            self.assertTrue(fields[name][0].startswith("http"), name)
        self.assertTrue(fields["canonical"][0].endswith("/.well-known/security.txt"))
        self.assertEqual(self.url_open(fields["acknowledgments"][0].split("/", 3)[3].join(
            ["/", ""])).status_code, 200)
        self.assertEqual(self.url_open("/security/policy").status_code, 200)

    def test_reporter_portal_list_and_comment(self):
        self.authenticate("reporter.portal", "reporter-pass")
        self._post(title="Mine")
        other = self.env["security.report"].create({
            "title": "Not mine", "reporter_partner_id": self.other_reporter.partner_id.id})
        listing = self.url_open("/my/security/reports")
        self.assertIn("Mine", listing.text)
        self.assertNotIn("Not mine", listing.text)
        self.assertEqual(self.url_open(f"/my/security/reports/{other.id}").status_code, 404)
        mine = self.env["security.report"].search([("title", "=", "Mine")])
        self.assertEqual(mine.reporter_partner_id, self.reporter.partner_id)
        mine.message_post(body="Internal: looks bad", subtype_xmlid="mail.mt_note")
        mine.message_post(body="Could you send the version?", message_type="comment",
                          subtype_xmlid="mail.mt_comment")
        page = self.url_open(f"/my/security/reports/{mine.id}")
        self.assertIn("Could you send the version?", page.text)
        self.assertNotIn("Internal: looks bad", page.text)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        self.url_open(f"/my/security/reports/{mine.id}/comment",
                      data={"csrf_token": csrf, "comment": "<script>x</script>Version 18.0"})
        self.assertIn("Version 18.0", mine.message_ids[0].body)
        self.assertNotIn("<script", mine.message_ids[0].body)
        self.assertEqual(mine.message_ids[0].author_id, self.reporter.partner_id)
