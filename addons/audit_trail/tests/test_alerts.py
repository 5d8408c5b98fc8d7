import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from odoo.tests import tagged

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

    def test_repeated_failed_logins_alert(self):
        Users = self.env.registry["res.users"]
        for _ in range(4):
            Users._audit_authentication(self.env.cr.dbname, "login", "failure", login="victim")
        self.assertFalse(self.env["audit.alert"].search([("code", "=", "failed_logins")]))
        Users._audit_authentication(self.env.cr.dbname, "login", "failure", login="victim")
        alert = self.env["audit.alert"].search([("code", "=", "failed_logins")])
        self.assertEqual((alert.key, alert.severity), ("victim", "warning"))
        self.assertIn("5 failed logins for victim", alert.message)
        Users._audit_authentication(self.env.cr.dbname, "login", "failure", login="other")
        self.assertEqual(len(self.env["audit.alert"].search([("code", "=", "failed_logins")])), 1)
