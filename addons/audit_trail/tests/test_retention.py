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

    # -- redaction is provable -------------------------------------------
    def sql(self, query, *args):
        self.env.cr.execute(query, args)
        self.Event.invalidate_model()

    def redact_one_old_login(self):
        """A login event 100 days old, sealed, then redacted by retention.
        Returns (its sequence, its content digest before the redaction)."""
        self.Event._seal()
        self.add("authentication", 100, "old.login.proof")
        self.Event._seal()
        event = self.events([("action", "=", "old.login.proof")])
        sequence, content = event.sequence, event.content_digest
        while self.Event._purge_expired():
            pass
        self.assertIsNone(self.Event._verify())
        return sequence, content

    def test_a_redacted_event_keeps_what_shows_it_was_due(self):
        sequence, content = self.redact_one_old_login()
        self.env.cr.execute("SELECT redacted, action, login, category, event_time IS NOT NULL,"
                            " content_digest FROM audit_event WHERE sequence = %s", [sequence])
        self.assertEqual(self.env.cr.fetchone(),
                         (True, None, None, "authentication", True, content),
                         "sequence, time and category kept; the digest of the rest too")
        records = self.events([("action", "=", "retention.redact")]).filtered(
            lambda r: json.loads(r.details)["category"] == "authentication")
        self.assertTrue(records)
        details = json.loads(records[-1].details)
        self.assertLessEqual(details["first"], sequence)
        self.assertGreaterEqual(details["last"], sequence)
        self.assertGreaterEqual(details["days"], 90)

    def test_sql_rewrite_of_a_redacted_events_time_or_category_detected(self):
        for column, value in (("event_time", "2020-01-01 00:00:00"), ("category", "api_access"),
                              ("content_digest", "0" * 64)):
            with self.subTest(column=column):
                self.env.cr.execute("SAVEPOINT rewrite")
                sequence, _content = self.redact_one_old_login()
                self.sql(f"UPDATE audit_event SET {column} = %s WHERE sequence = %s",  # noqa: S608
                         value, sequence)
                self.assertEqual(self.Event._verify(), {"sequence": sequence, "reason": "content"})
                self.env.cr.execute("ROLLBACK TO SAVEPOINT rewrite")

    def test_sql_redaction_of_an_event_not_due_detected(self):
        self.Event._seal()
        self.add("authentication", 10, "recent.login.forged")  # due in 80 days
        self.add("resource_change", 1, "after.it")
        self.Event._seal()
        target = self.events([("action", "=", "recent.login.forged")]).sequence
        # what a database user would do: mark it redacted and empty it, as
        # retention does, keeping every digest and hash
        self.sql("UPDATE audit_event SET redacted = true, action = NULL, outcome = NULL,"
                 " uid = NULL, login = NULL, ip = NULL, details = NULL WHERE sequence = %s",
                 target)
        self.assertEqual(self.Event._verify(), {"sequence": target, "reason": "redaction"})

    def test_a_redaction_record_planted_in_sql_vouches_for_nothing(self):
        """With the checkpoint key, retention signs its records: a record a
        database user inserts (sealed like any row) claiming the floor does
        not make an early redaction due, for the module nor the auditor."""
        from ..lib import chain
        from ..lib import verify as verifier
        from .common import SIGNING_SEED, signing_key
        self.startPatcher(signing_key())
        self.env["audit.retention"].search([("category", "=", "security_event")]).sudo().write(
            {"days": 730})
        self.add("authentication", 100, "old.login")
        self.add("security_event", 400, "kept.two.years")
        self.Event._seal()
        while self.Event._purge_expired():
            pass
        record = self.events([("action", "=", "retention.redact")])[:1]
        self.assertIn("signature", json.loads(record.details), "retention signs its records")
        self.assertIsNone(self.Event._verify())
        target = self.events([("action", "=", "kept.two.years")]).sequence
        self.assertTrue(target, "kept: the policy in force is two years")
        cutoff = datetime.utcnow().replace(microsecond=0) - timedelta(days=365, minutes=1)
        self.sql("UPDATE audit_event SET redacted = true, action = NULL, outcome = NULL,"
                 " uid = NULL, login = NULL, ip = NULL, user_agent = NULL, model = NULL,"
                 " res_id = NULL, res_name = NULL, changes = NULL, details = NULL,"
                 " request_path = NULL WHERE sequence = %s", target)
        self.raw_event(action="retention.redact", event_time=datetime.utcnow(), details=json.dumps(
            {"category": "security_event", "cutoff": cutoff.isoformat(), "days": 365,
             "first": target, "last": target, "count": 1}))
        self.Event._seal()
        self.assertEqual(self.Event._verify(), {"sequence": target, "reason": "redaction"})
        self.env.flush_all()
        pem = chain.public_key_pem(chain.load_private_key(SIGNING_SEED))
        problems = verifier.retention_problems(self.env.cr, [], verifier.proofs.floors(), 0,
                                               None, None, pem)
        self.assertIn(f"event {target}: redacted, and no redaction record shows it was due",
                      problems)

    def test_a_period_lowered_in_sql_is_not_applied(self):
        """The Owner keeps security events two years, in Odoo; a database user
        lowers the table to the floor: retention goes by the signed record of
        the Owner's change, and alerts."""
        from .common import signing_key
        self.startPatcher(signing_key())
        policy = self.env["audit.retention"].search([("category", "=", "security_event")])
        policy.sudo().write({"days": 730})
        self.add("security_event", 400, "kept.two.years")
        self.Event._seal()
        self.env.flush_all()
        self.sql("UPDATE audit_retention SET days = 365 WHERE category = 'security_event'")
        policy.invalidate_model()
        while self.Event._purge_expired():
            pass
        self.assertEqual(self.events([("action", "=", "kept.two.years")]).mapped("action"),
                         ["kept.two.years"], "not redacted: two years apply")
        alert = self.env["audit.alert"].search([("code", "=", "retention_policy_altered")])
        self.assertEqual(alert.key, "security_event")
        self.assertIsNone(self.Event._verify())

    def test_a_redacted_event_showing_content_is_detected(self):
        """Marked redacted (as if due), its content rewritten: what it shows is
        vouched for by nothing, as retention empties what it redacts."""
        sequence, _content = self.redact_one_old_login()
        self.sql("UPDATE audit_event SET action = 'benign.view', details = '{}'"
                 " WHERE sequence = %s", sequence)
        self.assertEqual(self.Event._verify(), {"sequence": sequence, "reason": "content"})

    def test_sql_rewrite_of_a_redaction_record_detected(self):
        sequence, _content = self.redact_one_old_login()
        record = self.events([("action", "=", "retention.redact")]).filtered(
            lambda r: json.loads(r.details)["category"] == "authentication")[-1]
        # a shorter retention in the record would vouch for more: it is chained,
        # and below the floor it vouches for nothing
        self.sql("UPDATE audit_event SET details = replace(details, '\"days\": 90',"
                 " '\"days\": 1') WHERE sequence = %s", record.sequence)
        result = self.Event._verify()
        self.assertIsNotNone(result)
        self.assertLessEqual(result["sequence"], record.sequence)
        self.assertIn(result["reason"], ("content", "redaction"))

