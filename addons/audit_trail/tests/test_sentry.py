import gzip
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from odoo.tests import HttpCase, new_test_user, tagged

from .. import sentry_setup

_logger = logging.getLogger(__name__)


class Envelopes(BaseHTTPRequestHandler):
    """A stand-in Sentry server: keeps every envelope it is sent."""
    received = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        Envelopes.received.append((self.path, body.decode("utf-8", "replace")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestSentry(HttpCase):
    def setUp(self):
        super().setUp()
        import sentry_sdk
        Envelopes.received = []
        server = HTTPServer(("127.0.0.1", 0), Envelopes)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.addCleanup(sentry_sdk.init)  # back to no client
        dsn = f"http://publickey@127.0.0.1:{server.server_port}/42"
        self.assertTrue(sentry_setup.setup(dsn))

    def flush(self):
        import sentry_sdk
        sentry_sdk.flush(timeout=10)
        return "\n".join(body for _path, body in Envelopes.received)

    def test_errors_reach_sentry_without_personal_data(self):
        user = new_test_user(self.env, "sentry.user", "base.group_user", email="carol@example.com",
                             password="sentry-user-password")
        self.authenticate("sentry.user", "sentry-user-password")
        session_id = self.opener.cookies["session_id"]
        _logger.error("login failed for %s from 203.0.113.9: password=%s", "alice@example.com",
                      "hunter2-secret")
        try:
            raise ValueError("refresh token=tok-abc-123 rejected for bob@example.com")
        except ValueError:
            _logger.exception("marker-exception-event")
        # an error inside a request, as a logged-in user: a bad call_kw
        response = self.url_open("/web/dataset/call_kw/res.partner/write", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "params": {
                "model": "res.partner", "method": "write",
                "args": [[user.partner_id.id], {"name": "x"}, "extra", "password=hunter3"],
                "kwargs": {}}}), headers={"Content-Type": "application/json"})
        self.assertIn("error", response.json())
        sent = self.flush()
        self.assertTrue(all(path == "/api/42/envelope/" for path, _b in Envelopes.received))
        self.assertIn("marker-exception-event", sent)
        self.assertIn("login failed for", sent)
        self.assertIn("Exception during request handling", sent)
        self.assertIn("/web/dataset/call_kw/res.partner/write", sent)
        for secret in ("alice@example.com", "bob@example.com", "carol@example.com",
                       "203.0.113.9", "127.0.0.1", "hunter2-secret", "hunter3", "tok-abc-123",
                       "sentry-user-password", session_id):
            self.assertNotIn(secret, sent)
        events = [json.loads(line) for body in sent.split("\n")
                  for line in [body] if line.startswith("{") and '"event_id"' in line
                  and '"level"' in line]
        self.assertTrue(events)
        for event in events:
            self.assertNotIn("user", event)
            for key in ("cookies", "headers", "data", "env"):
                self.assertNotIn(key, event.get("request", {}))

    def test_no_dsn_no_client(self):
        import sentry_sdk
        sentry_sdk.init()
        self.assertFalse(sentry_setup.setup(None))
        _logger.error("not sent anywhere")
        self.assertEqual(self.flush(), "")
