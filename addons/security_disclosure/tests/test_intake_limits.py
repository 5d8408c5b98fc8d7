"""Intake under bad input and floods: by e-mail through the real mail gateway,
by the form through real HTTP requests."""
import html
import re
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.service.server import RequestHandler
from odoo.tests import HttpCase, TransactionCase, tagged

from .common import disclosure_users

REFERENCE = re.compile(r"^VR-\d{4}-\d{4,}$")
# The peer address the test server reports for a request carrying this header:
# what the server reads from the TCP connection, set per request.
PEER = "X-Test-Peer"


def raw_email(sender, subject, body="Steps to reproduce: open /web and look.", msgid=None,
              subject_header=None):
    headers = [f"From: {sender}", "To: security@example.com",
               f"Message-ID: <{msgid or abs(hash((sender, subject, body)))}@test.example>",
               "Date: Fri, 20 Nov 2026 10:00:00 +0000", "MIME-Version: 1.0",
               'Content-Type: text/plain; charset="utf-8"']
    if subject_header is not None:
        headers.append(subject_header)
    elif subject is not None:
        headers.append(f"Subject: {subject}")
    return "\n".join(headers) + "\n\n" + body + "\n"


def set_limits(env, **limits):
    for key, value in limits.items():
        env["ir.config_parameter"].set_param(f"security_disclosure.{key}", value)


@tagged("post_install", "-at_install")
class TestEmailIntake(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        disclosure_users(cls)

    def _receive(self, sender, subject, **kw):
        thread_id = self.env["mail.thread"].message_process(
            "security.report", raw_email(sender, subject, **kw))
        return self.env["security.report"].browse(thread_id or ())

    def _receipts(self, address):
        return self.env["mail.mail"].search([("model", "=", "security.report"),
                                             ("email_to", "ilike", address)])

    def test_subject_is_a_plain_bounded_title_and_never_the_reference(self):
        markup = self._receive("eve@researcher.example", "<b>VR-2020-00001</b>", msgid="m1")
        empty = self._receive("eve@researcher.example", None, msgid="m2",
                              subject_header="Subject: ")
        huge = self._receive("eve@researcher.example", None, msgid="m3",
                             subject_header="Subject: " + "Stored  XSS\t" * 1000)
        lines = self._receive("eve@researcher.example", None, msgid="m4",
                              subject_header="Subject: =?utf-8?q?Two=0Alines=09and_<i>tags</i>?=")
        reports = markup | empty | huge | lines
        self.assertEqual(len(reports), 4)
        for report in reports:
            self.assertRegex(report.name, REFERENCE)
            self.assertNotIn("<", report.title)
            self.assertLessEqual(len(report.title), 200)
            self.assertNotRegex(report.title, r"\s\s|[\n\t\r]", "one line, single spaces")
        self.assertEqual(len(set(reports.mapped("name"))), 4)
        self.assertEqual(markup.title, "VR-2020-00001")
        self.assertNotEqual(markup.name, "VR-2020-00001")
        self.assertEqual(empty.title, "Report by e-mail")
        self.assertTrue(huge.title.startswith("Stored XSS Stored XSS"))
        self.assertEqual(lines.title, "Two lines and tags")
        # nothing lost: the whole subject goes with the report, for the team
        original = self.env["ir.attachment"].search([("res_model", "=", "security.report"),
                                                     ("res_id", "=", huge.id)])
        self.assertIn(("Stored  XSS\t" * 1000).strip(), original.raw.decode())

    def test_flood_from_one_sender_makes_five_reports_and_three_receipts(self):
        set_limits(self.env, max_per_hour=5, max_receipts_per_hour=3)
        for i in range(200):
            self._receive("Flood <flood@spam.example>", f"Report {i}", msgid=f"flood-{i}")
        reports = self.env["security.report"].search(
            [("reporter_email", "=", "flood@spam.example")])
        self.assertEqual(len(reports), 5, "the sender's hourly limit")
        self.assertEqual(len(self._receipts("flood@spam.example")), 3,
                         "receipts to one address are limited")
        # the gateway keeps working for everyone else
        other = self._receive("Alice <alice@researcher.example>", "RCE in /web/import")
        self.assertRegex(other.name, REFERENCE)
        self.assertFalse(other.intake_held)
        self.assertEqual(len(self._receipts("alice@researcher.example")), 1)

    def test_flood_spread_over_senders_is_held_then_dropped(self):
        set_limits(self.env, max_per_hour=5, max_total_per_hour=20, max_held_per_hour=30)
        for i in range(200):
            self._receive(f"bot{i}@spam.example", f"Report {i}", msgid=f"spread-{i}")
        reports = self.env["security.report"].search([("reporter_email", "like", "@spam.example")])
        held = reports.filtered("intake_held")
        self.assertEqual(len(reports - held), 20, "the hourly cap of new reports")
        self.assertEqual(len(held), 30, "then held for review, up to their own cap")
        receipts = self._receipts("@spam.example")
        self.assertEqual(len(receipts), 20, "no receipt for a held report")
        self.assertFalse(receipts.filtered(lambda m: any(
            r.reporter_email in m.email_to for r in held)))
        # the team sees what is held, and releasing one acknowledges its sender
        team_held = self.env["security.report"].with_user(self.team_editor).search(
            [("intake_held", "=", True)])
        self.assertEqual(team_held, held)
        held[0].with_user(self.team_editor).action_release()
        self.assertFalse(held[0].intake_held)
        self.assertEqual(len(self._receipts(held[0].reporter_email)), 1)

    def test_receipt_echoes_nothing_of_the_report(self):
        report = self._receive('"Buy pills at http://spam.example/buy" <victim@mail.example>',
                               "CHEAP PILLS http://spam.example/buy",
                               body="Visit http://spam.example/buy for CHEAP PILLS")
        receipt = self._receipts("victim@mail.example")
        self.assertEqual(len(receipt), 1)
        text = f"{receipt.subject} {receipt.body_html} {receipt.email_to} {receipt.reply_to}"
        self.assertIn(report.name, text)
        for echoed in ("spam.example", "PILLS", "pills", "/my/security/reports", "access_token"):
            self.assertNotIn(echoed, text)

    def test_intake_contacts_are_read_by_the_team_only(self):
        report = self._receive("Eve Researcher <eve@researcher.example>", "SSRF in /web/image")
        contact = report.reporter_partner_id
        self.assertTrue(contact)
        for user in (self.out_editor, self.out_admin, self.out_viewer):
            with self.subTest(user=user.login):
                Partner = self.env["res.partner"].with_user(user)
                self.assertFalse(Partner.search([("email", "ilike", "eve@researcher.example")]))
                self.assertFalse(Partner.name_search("Eve Researcher"))
                with self.assertRaises(AccessError):
                    contact.with_user(user).read(["name", "email"])
        for user in (self.team_viewer, self.team_admin):
            with self.subTest(user=user.login):
                Partner = self.env["res.partner"].with_user(user)
                self.assertEqual(Partner.search([("email", "=", "eve@researcher.example")]),
                                 contact)
                self.assertEqual(contact.with_user(user).read(["email"])[0]["email"],
                                 "eve@researcher.example")
        # an employee's own contacts are untouched
        own = self.env["res.partner"].create({"name": "Supplier",
                                              "email": "eve@researcher.example"})
        self.assertEqual(self.env["res.partner"].with_user(self.out_admin).search(
            [("email", "=", "eve@researcher.example")]), own)
        # showing it to everyone is a team Admin's decision
        with self.assertRaises(AccessError):
            contact.with_user(self.team_viewer).write({"security_intake_contact": False})
        with self.assertRaises(AccessError):
            contact.with_user(self.out_admin).write({"security_intake_contact": False})
        # a contact that becomes a user's is read like any user's
        self.env["res.users"].create({"login": "eve.portal", "partner_id": contact.id,
                                      "groups_id": [(6, 0, self.env.ref("base.group_portal").ids)]})
        self.assertEqual(contact.with_user(self.out_editor).read(["name"])[0]["name"],
                         "Eve Researcher")


@tagged("post_install", "-at_install")
class TestFormIntake(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        disclosure_users(cls)

    def setUp(self):
        super().setUp()
        address_string = RequestHandler.address_string

        def peer(handler):
            return handler.headers.get(PEER) or address_string(handler)

        patcher = patch.object(RequestHandler, "address_string", peer)
        patcher.start()
        self.addCleanup(patcher.stop)
        page = self.url_open("/security/report")
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def _post(self, peer=None, **fields):
        data = {"csrf_token": self.csrf, "title": "XSS in the portal",
                "description": "1. open /my\n2. ...", "email": "", "name": "",
                "credit_preference": "none"}
        data.update(fields)
        return self.url_open("/security/report", data=data,
                             headers={PEER: peer} if peer else None)

    def _reports(self, **domain):
        return self.env["security.report"].search([(k, "=", v) for k, v in domain.items()])

    def test_oversized_combined_fields_come_back_with_the_form(self):
        typed = {
            "title": "Path traversal in /web/content",
            "description": "Keep me: " + "steps " * 3330,  # 19,989 characters
            "versions": "16.0, 17.0, 18.0 and saas-18.1 (all editions, Community and Enterprise)",
            "name": "Carol Finder", "email": "carol@researcher.example",
            "credit_preference": "alias", "credit_name": "c4r0l",
        }
        self.assertLess(len(typed["description"]), 20000)
        response = self._post(**typed)
        self.assertEqual(response.status_code, 400)
        self.assertIn("o_security_report_errors", response.text)
        self.assertIn("20000", response.text.replace(",", ""), "the reason, with the limit")
        page = html.unescape(response.text)
        for field, value in typed.items():
            self.assertIn(value, page, f"{field} comes back as typed")
        self.assertRegex(response.text, r'value="alias"\s+selected')
        self.assertFalse(self._reports(title=typed["title"]), "nothing stored")
        self.assertFalse(self.env["res.partner"].search([("email", "=", typed["email"])]))
        # nothing lost: the visitor shortens it and sends it again
        typed["description"] = typed["description"][:19000]
        self.assertEqual(self._post(**typed).status_code, 200)
        self.assertTrue(self._reports(title=typed["title"]))

    def test_flood_from_30_networks_does_not_stop_a_new_reporter(self):
        set_limits(self.env, max_per_hour=5, max_total_per_hour=100)
        refused = 0
        for network in range(30):
            for host in range(6):
                response = self._post(peer=f"2001:db8:{network:x}:1::{host + 1}",
                                      title=f"Flood {network}-{host}",
                                      email=f"bot{network}-{host}@spam.example", name="Bot")
                if host < 5:
                    self.assertEqual(response.status_code, 200, response.text[:300])
                else:
                    self.assertEqual(response.status_code, 429, "the network's own limit")
                    self.assertIn(f"Flood {network}-{host}", response.text, "form kept")
                    refused += 1
        self.assertEqual(refused, 30)
        flood = self.env["security.report"].search([("title", "=like", "Flood %")])
        self.assertEqual(len(flood), 150)
        self.assertEqual(len(flood.filtered("intake_held")), 50, "past the hourly cap: held")
        receipts = self.env["mail.mail"].search([("email_to", "like", "@spam.example")])
        self.assertEqual(len(receipts), 100, "no receipt for a held report")

        response = self._post(peer="198.51.100.7", title="Account takeover via reset link",
                              email="dana@researcher.example", name="Dana")
        self.assertEqual(response.status_code, 200)
        report = self._reports(title="Account takeover via reset link")
        self.assertEqual(len(report), 1, "the new reporter's report is accepted")
        self.assertIn(report.name, response.text)
        self.assertTrue(report.intake_held, "held for the team's review")
        self.assertIn("o_security_report_held", response.text)

    def test_a_flood_from_one_network_past_every_cap_does_not_stop_a_new_reporter(self):
        """Many /64s of one /48 (what one party holds) fill the hourly cap and
        then their network's share of held reports; reporters from other
        networks are still taken (held for review)."""
        set_limits(self.env, max_per_hour=5, max_total_per_hour=5,
                   max_held_per_network_per_hour=3, max_held_per_hour=1)
        statuses = [self._post(peer=f"2001:db8:0:{sub:x}::1", title=f"Flood {sub}",
                               email=f"bot{sub}@spam.example", name="Bot").status_code
                    for sub in range(12)]
        self.assertEqual(statuses, [200] * 8 + [429] * 4)
        flood = self.env["security.report"].search([("title", "=like", "Flood %")])
        self.assertEqual(len(flood.filtered("intake_held")), 3)
        for peer, title in (("198.51.100.7", "Reset link takeover"),
                            ("2001:db8:ffff::1", "IDOR on invoices")):
            with self.subTest(peer=peer):
                response = self._post(peer=peer, title=title, email="dana@researcher.example",
                                      name="Dana")
                self.assertEqual(response.status_code, 200, response.text[:300])
                self.assertTrue(self._reports(title=title).intake_held)

    def test_refused_portal_comment_comes_back_with_the_reason(self):
        response = self._post(title="Open redirect in /web/login",
                              email="frank@researcher.example", name="Frank")
        follow = re.search(r'href="(/my/security/reports/\d+\?access_token=[^"]+)"', response.text)
        page_url = html.unescape(follow.group(1))
        page = self.url_open(page_url)
        report_id, token = re.search(r"/my/security/reports/(\d+)\?access_token=(.+)",
                                     page_url).groups()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        for comment, reason in (("<script></script>", "Write a comment first"),
                                ("Keep me " + "z" * 20000, "longer than 20000")):
            with self.subTest(reason=reason):
                response = self.url_open(f"/my/security/reports/{report_id}/comment", data={
                    "csrf_token": csrf, "access_token": token, "comment": comment})
                self.assertEqual(response.status_code, 400)
                self.assertIn(reason, response.text)
                self.assertIn(html.escape(comment), response.text, "the comment is kept")
        report = self.env["security.report"].browse(int(report_id))
        self.assertFalse(report.message_ids.filtered(lambda m: "Keep me" in (m.body or "")))
