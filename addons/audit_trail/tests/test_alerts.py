import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from odoo.tests import tagged
from odoo.tools import SQL

from .common import AuditCase


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Capture(BaseHTTPRequestHandler):
    received = []
    delay = 0

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay)
        Capture.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestAlerts(AuditCase):
    def setUp(self):
        super().setUp()
        Capture.received, Capture.delay = [], 0
        self.server = HTTPServer(("127.0.0.1", 0), Capture)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def test_entry_point_notifies_owner_admins_and_webhook(self):
        self.env["ir.config_parameter"].set_param("audit_trail.webhook_url", self.url)
        alert = self.env["audit.alert"].with_user(self.editor).raise_alert(
            "backup_failed", "Backup failed", "The nightly backup failed: bucket missing.",
            severity="critical", key="nightly")
        recipients = self.env["mail.message"].search(
            [("model", "=", "audit.alert"), ("res_id", "=", alert.id)]).notification_ids.res_partner_id
        for user in (self.owner, self.admin, self.admin2):
            self.assertIn(user.partner_id, recipients)
        self.assertNotIn(self.editor.partner_id, recipients)
        self.assertNotIn(self.viewer.partner_id, recipients)
        self.assertEqual(Capture.received[0]["code"], "backup_failed")
        self.assertEqual(Capture.received[0]["severity"], "critical")
        self.assertEqual(alert.webhook_status, "HTTP 204")
        again = self.env["audit.alert"].raise_alert("backup_failed", "Backup failed", "again",
                                                    key="nightly")
        self.assertEqual(again, alert, "the same alert is not repeated within the hour")
        self.assertEqual(len(Capture.received), 1)
        self.assertTrue(self.events([("action", "=", "alert.raised")]))

    def test_webhook_failures_do_not_lose_the_alert(self):
        # Odoo's test harness raises every requests timeout below 10 s to 10 s
        Capture.delay = 11
        self.env["ir.config_parameter"].set_param("audit_trail.webhook_url", self.url)
        alert = self.env["audit.alert"].raise_alert("embargo_breached", "Embargo", "early")
        self.assertTrue(alert.exists())
        self.assertEqual(alert.webhook_status, "failed: ReadTimeout")
        self.server.server_close()  # nothing listens any more
        self.env["ir.config_parameter"].set_param(
            "audit_trail.webhook_url", f"http://127.0.0.1:{free_port()}/hook")
        alert = self.env["audit.alert"].raise_alert("embargo_breached", "Embargo", "again")
        self.assertEqual(alert.webhook_status, "failed: ConnectionError")

    def test_an_alert_planted_in_the_future_silences_nothing(self):
        Alert = self.env["audit.alert"]
        Alert.raise_alert("chain_broken", "Broken", "first", key="18")
        self.assertEqual(len(Alert.search([("code", "=", "chain_broken"), ("key", "=", "18")])), 1)
        Alert.raise_alert("chain_broken", "Broken", "again", key="18")  # deduplicated
        self.assertEqual(len(Alert.search([("code", "=", "chain_broken"), ("key", "=", "18")])), 1)
        self.env.cr.execute("UPDATE audit_alert SET create_date = '2100-01-01'"
                            " WHERE code = 'chain_broken' AND key = '18'")
        Alert.invalidate_model()
        Alert.raise_alert("chain_broken", "Broken", "third", key="18")
        self.assertEqual(len(Alert.search([("code", "=", "chain_broken"), ("key", "=", "18")])), 2)

    def test_the_label_key_can_live_outside_the_database(self):
        """With security_login_label_key in odoo.conf, someone reading the
        database (its secret included) cannot test guesses against labels."""
        from unittest.mock import patch

        from odoo.tools import config
        Users = self.env["res.users"]
        with_db_secret = Users._security_unknown_login_label("Hunter2!")
        with patch.dict(config.options, {"security_login_label_key": "k" * 32}):
            outside = Users._security_unknown_login_label("Hunter2!")
            self.env["ir.config_parameter"].sudo().set_param("database.secret", "another")
            self.assertEqual(Users._security_unknown_login_label("Hunter2!"), outside)
        self.assertNotEqual(outside, with_db_secret)

    def test_repeated_failed_logins_alert_names_the_known_login(self):
        Users = self.env.registry["res.users"]
        for _ in range(4):
            Users._audit_authentication(self.env.cr.dbname, "login", "failure", login="role.editor")
        self.assertFalse(self.env["audit.alert"].search([("code", "=", "failed_logins")]))
        Users._audit_authentication(self.env.cr.dbname, "login", "failure", login="role.editor")
        alert = self.env["audit.alert"].search([("code", "=", "failed_logins")])
        self.assertEqual((alert.key, alert.severity), ("role.editor", "warning"))
        self.assertIn("5 failed logins for role.editor", alert.message)
        self.assertEqual(set(self.events([("action", "=", "login")]).mapped("login")),
                         {"role.editor"}, "a known login is stored as it is")
        Users._audit_authentication(self.env.cr.dbname, "login", "failure", login="role.viewer")
        self.assertEqual(len(self.env["audit.alert"].search([("code", "=", "failed_logins")])), 1)

    def test_unknown_login_typed_leaves_no_trace_in_events_alerts_mails_or_webhook(self):
        """People type their password into the login field: a login no account
        has is kept as a keyed digest and its length, and alerts quote that."""
        typed = "Tr0ub4dor&3-Summer"
        Users = self.env.registry["res.users"]
        self.env["ir.config_parameter"].set_param("audit_trail.webhook_url", self.url)
        for _ in range(5):
            Users._audit_authentication(self.env.cr.dbname, "login", "failure", login=typed)
        events = self.events([("action", "=", "login")])
        self.assertEqual(len(events), 5)
        label = events[0].login
        self.assertRegex(label, r"^unknown login #[0-9a-f]{12}$")
        self.assertEqual(set(events.mapped("login")), {label}, "one label for one typed text")
        self.assertEqual(json.loads(events[0].details)["login_length"], len(typed))
        # the throttle's counters use the same label
        self.assertEqual(label, self.env["res.users"]._security_unknown_login_label(typed))
        alert = self.env["audit.alert"].search([("code", "=", "failed_logins")])
        self.assertEqual(alert.key, label)
        self.assertIn(label, alert.message)
        self.assertTrue(Capture.received)
        self.assertTrue(any(payload["key"] == label for payload in Capture.received))
        self.env.flush_all()
        for table in ("audit_event", "audit_alert", "mail_message", "mail_mail"):
            self.env.cr.execute(SQL("SELECT count(*) FROM %s t WHERE t::text ILIKE %s",
                                    SQL.identifier(table), f"%{typed.lower()}%"))
            self.assertEqual(self.env.cr.fetchone()[0], 0, f"the typed text is in {table}")
        self.assertNotIn(typed.lower(), json.dumps(Capture.received).lower())
