import json
from datetime import datetime, timedelta

from odoo.tests import tagged

from .common import AuditCase


@tagged("post_install", "-at_install")
class TestRetention(AuditCase):
    def add(self, category, days_old, action):
        self.raw_event(category=category, action=action, login="someone",
                       ip="192.0.2.7", event_time=datetime.utcnow() - timedelta(days=days_old))

    def test_defaults_from_the_security_guide(self):
        days = {p.category: p.days for p in self.env["audit.retention"].search([])}
        self.assertEqual(days, {"authentication": 90, "authorization": 90, "resource_change": 365,
                                "api_access": 90, "security_event": 365})

    def test_purge_removes_only_expired_events_and_the_chain_still_verifies(self):
        self.Event._seal()
        plan = [("authentication", 100, "old.login"), ("resource_change", 100, "kept.change"),
                ("authentication", 100, "old.login"), ("api_access", 95, "old.api"),
                ("authorization", 10, "recent.denial"), ("security_event", 400, "old.security"),
                ("authentication", 1, "recent.login"), ("api_access", 100, "old.api")]
        for category, days_old, action in plan:
            self.add(category, days_old, action)
        self.Event._seal()
        self.assertIsNone(self.Event._verify())
        rounds = 0
        while self.Event._purge_expired(limit=2):  # small chunks: several rounds
            rounds += 1
            self.assertIsNone(self.Event._verify(), f"after round {rounds}")
        self.assertGreater(rounds, 2)
        remaining = self.events([("action", "!=", False)]).mapped("action")
        for gone in ("old.login", "old.api", "old.security"):
            self.assertNotIn(gone, remaining)
        for kept in ("kept.change", "recent.denial", "recent.login"):
            self.assertIn(kept, remaining)
        self.assertIsNone(self.Event._verify())
        self.env.cr.execute("SELECT ip, login FROM audit_event WHERE redacted")
        self.assertTrue(all(row == (None, None) for row in self.env.cr.fetchall()))

    def test_prefix_deleted_behind_a_recorded_anchor(self):
        # age everything logged so far (install, setup, other tests' sealed
        # events: their content no longer matches, but they are redacted, which
        # verification allows, and deleted)
        self.Event._flush_buffer()
        self.env.cr.execute("UPDATE audit_event SET event_time = event_time - interval '800 days'")
        for _ in range(5):
            self.add("authentication", 200, "ancient")
        self.Event._seal()
        self.add("security_event", 1, "fresh")
        self.Event._seal()
        while self.Event._purge_expired():
            pass
        self.assertFalse(self.events([("action", "=", "ancient")]))
        self.env.cr.execute("SELECT count(*) FROM audit_event WHERE redacted")
        self.assertEqual(self.env.cr.fetchone()[0], 0, "the redacted prefix was deleted")
        self.assertEqual(self.events([("action", "!=", False)]).mapped("action")[:1], ["fresh"])
        self.env.cr.execute("SELECT anchor_sequence, anchor_hash FROM audit_chain_state")
        anchor, anchor_hash = self.env.cr.fetchone()
        purge = self.events([("action", "=", "retention.purge")])[-1:]
        self.assertEqual(purge.details and json.loads(purge.details)["anchor_hash"],
                         anchor_hash)
        self.assertIsNone(self.Event._verify())
        # moving the anchor over a deleted event, without a purge event, is tampering
        self.env.cr.execute("SELECT prev_hash FROM audit_event WHERE sequence = %s", [anchor + 2])
        next_prev = self.env.cr.fetchone()[0]
        self.env.cr.execute("DELETE FROM audit_event WHERE sequence = %s", [anchor + 1])
        self.env.cr.execute("UPDATE audit_chain_state SET anchor_sequence = %s, anchor_hash = %s",
                            [anchor + 1, next_prev])
        self.Event.invalidate_model()
        self.assertEqual(self.Event._verify(), {"sequence": anchor + 1, "reason": "anchor"})

    def test_zero_days_keeps_forever(self):
        self.env["audit.retention"].search([("category", "=", "authentication")]).days = 0
        self.add("authentication", 1000, "very.old.login")
        self.Event._seal()
        while self.Event._purge_expired():
            pass
        self.assertTrue(self.events([("action", "=", "very.old.login")]))
