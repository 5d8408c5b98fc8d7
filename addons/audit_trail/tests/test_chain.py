import json
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SIGNING_SEED, AuditCase, signing_key


@tagged("post_install", "-at_install")
class TestAppendOnlyChain(AuditCase):
    def setUp(self):
        super().setUp()
        for i in range(6):
            self.Event.log("security_event", f"chain.test.{i}", details={"i": i})
        self.Event._seal()
        self.assertIsNone(self.Event._verify())

    def test_orm_write_and_unlink_refused_for_every_role_and_superuser(self):
        event = self.events([("action", "=", "chain.test.3")])
        for who in (self.viewer, self.editor, self.admin, self.owner):
            with self.subTest(role=who.security_role):
                with self.assertRaises(AccessError):
                    event.with_user(who).write({"action": "forged"})
                with self.assertRaises(AccessError):
                    event.with_user(who).unlink()
                with self.assertRaises(AccessError):
                    self.Event.with_user(who).create({"action": "forged"})
        with self.assertRaises(AccessError):
            event.sudo().write({"action": "forged"})
        with self.assertRaises(AccessError):
            event.sudo().unlink()
        with self.assertRaises(AccessError):
            self.Event.sudo().create({"category": "security_event", "action": "forged"})
        self.assertEqual(event.action, "chain.test.3")
        self.assertIsNone(self.Event._verify())

    def test_nothing_is_sealed_as_happening_after_its_sealing(self):
        self.raw_event(action="from.the.future", event_time="2100-01-01 00:00:00")
        self.Event._seal()
        event = self.events([("action", "=", "from.the.future")])
        self.assertTrue(event.sequence)
        self.assertLessEqual(event.event_time, fields.Datetime.now())
        self.assertIsNone(self.Event._verify())

    def test_sealing_numbers_and_links(self):
        events = self.events([("action", "like", "chain.test.")])
        sequences = events.mapped("sequence")
        self.assertEqual(sequences, list(range(sequences[0], sequences[0] + 6)))
        for prev, event in zip(events, events[1:], strict=False):
            self.assertEqual(event.prev_hash, prev.hash)
        self.assertEqual(self.Event._seal(), 0)  # nothing left to seal

    def sql(self, query, *args):
        self.env.cr.execute(query, args)
        self.Event.invalidate_model()

    def seq(self, action):
        return self.events([("action", "=", action)]).sequence

    def test_sql_update_of_content_detected(self):
        target = self.seq("chain.test.2")
        self.sql("UPDATE audit_event SET login = 'someone-else' WHERE sequence = %s", target)
        self.assertEqual(self.Event._verify(), {"sequence": target, "reason": "content"})

    def test_sql_update_of_content_and_hashes_detected(self):
        """Rewriting the digest and hash of one event breaks the next link."""
        target = self.seq("chain.test.2")
        self.sql("UPDATE audit_event SET action = 'forged', digest = repeat('0', 64),"
                 " hash = repeat('1', 64) WHERE sequence = %s", target)
        self.assertEqual(self.Event._verify()["sequence"], target)

    def test_sql_update_of_a_hash_or_a_link_detected(self):
        target = self.seq("chain.test.2")
        self.sql("UPDATE audit_event SET hash = repeat('1', 64) WHERE sequence = %s", target)
        self.assertEqual(self.Event._verify(), {"sequence": target, "reason": "hash"})
        # a consistent hash over a forged previous hash: only the link shows it
        later = self.seq("chain.test.4")
        self.sql("UPDATE audit_event SET prev_hash = repeat('2', 64), hash = encode(sha256("
                 "decode(repeat('2', 64), 'hex') || decode(digest, 'hex')), 'hex')"
                 " WHERE sequence = %s", later)
        self.assertEqual(self.Event._verify(), {"sequence": target, "reason": "hash"})
        # the first hash put back as it was: the forged link is the first fault
        self.sql("UPDATE audit_event e SET hash = encode(sha256(decode(e.prev_hash, 'hex')"
                 " || decode(e.digest, 'hex')), 'hex') WHERE sequence = %s", target)
        self.assertEqual(self.Event._verify(), {"sequence": later, "reason": "link"})

    def test_sql_delete_in_the_middle_detected(self):
        target = self.seq("chain.test.3")
        self.sql("DELETE FROM audit_event WHERE sequence = %s", target)
        self.assertEqual(self.Event._verify(), {"sequence": target, "reason": "missing"})

    def test_sql_delete_of_the_tail_detected(self):
        last = self.seq("chain.test.5")
        self.sql("DELETE FROM audit_event WHERE sequence >= %s", last - 1)
        self.assertEqual(self.Event._verify(), {"sequence": last - 1, "reason": "missing"})

    def test_sql_delete_of_the_head_detected(self):
        self.env.cr.execute("SELECT min(sequence) FROM audit_event")
        first = self.env.cr.fetchone()[0]
        self.sql("DELETE FROM audit_event WHERE sequence = %s", first)
        self.assertEqual(self.Event._verify(), {"sequence": first, "reason": "missing"})

    def test_a_value_verification_cannot_read_is_reported_and_alerted(self):
        target = self.seq("chain.test.3")
        self.sql("UPDATE audit_event SET prev_hash = 'zz' WHERE sequence = %s", target)
        for incremental in (False, True):
            with self.subTest(incremental=incremental):
                result = self.Event._verify_and_alert(incremental=incremental)
                self.assertEqual(result["reason"], "unreadable values in the chain")
        self.assertTrue(self.env["audit.alert"].search([("code", "=", "chain_broken")]))

    def test_verify_action_reports_and_alerts(self):
        from odoo.api import call_kw
        result = self.Event.with_user(self.admin).action_verify_chain()
        self.assertEqual(result["params"]["type"], "success")
        # as the list's header button calls it: with the selected ids, or none
        for ids in ([], self.events().ids[:2]):
            result = call_kw(self.Event.with_user(self.admin), "action_verify_chain", [ids], {})
            self.assertEqual(result["params"]["type"], "success")
        target = self.seq("chain.test.4")
        self.sql("UPDATE audit_event SET details = '{}' WHERE sequence = %s", target)
        result = self.Event.with_user(self.admin).action_verify_chain()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn(str(target), result["params"]["message"])
        alert = self.env["audit.alert"].search([("code", "=", "chain_broken")])
        self.assertEqual(alert.key, str(target))
        with self.assertRaises(AccessError):  # the chain is not for Editors to inspect
            self.Event.with_user(self.editor).action_verify_chain()


@tagged("post_install", "-at_install")
class TestCheckpoints(AuditCase):
    def test_signed_checkpoints_and_export(self):
        from ..lib import chain
        with signing_key():
            Checkpoint = self.env["audit.checkpoint"]
            self.Event.log("security_event", "cp.1")
            self.Event._seal()
            self.assertTrue(Checkpoint._checkpoint_head())
            self.assertFalse(Checkpoint._checkpoint_head())  # head did not move
            checkpoint = Checkpoint.search([], limit=1)
            self.env.cr.execute("SELECT last_sequence, last_hash FROM audit_chain_state")
            head = self.env.cr.fetchone()
            self.assertEqual((checkpoint.sequence, checkpoint.hash), head)
            lines = Checkpoint.with_user(self.admin)._export_lines()
            self.env.cr.execute("SELECT sequence, hash FROM audit_event WHERE sequence IS NOT NULL")
            live = dict(self.env.cr.fetchall())
            self.assertEqual(chain.verify_export(lines, live), [])
            self.assertIsNone(self.Event._verify())
            # rewriting the whole tail after the checkpoint is caught by it
            self.env.cr.execute("UPDATE audit_event SET hash = repeat('a', 64) WHERE sequence = %s",
                                [checkpoint.sequence])
            self.env.cr.execute("UPDATE audit_chain_state SET last_hash = repeat('a', 64)")
            self.Event.invalidate_model()
            self.assertEqual(self.Event._verify()["sequence"], checkpoint.sequence)
            live[checkpoint.sequence] = "a" * 64
            self.assertEqual(chain.verify_export(lines, live),
                             [f"checkpoint {checkpoint.sequence}: the chain no longer holds this hash"])

    def signed_checkpoints(self, count):
        """`count` checkpoints, each of a new chain head."""
        Checkpoint = self.env["audit.checkpoint"]
        for i in range(count):
            self.Event.log("security_event", f"cp.run.{i}")
            self.Event._seal()
            self.assertTrue(Checkpoint._checkpoint_head())
        return Checkpoint.search([("number", "!=", False)], order="number")

    def test_checkpoints_are_numbered_and_chained(self):
        from ..lib import chain
        with signing_key():
            checkpoints = self.signed_checkpoints(4)
            numbers = checkpoints.mapped("number")
            self.assertEqual(numbers, list(range(numbers[0], numbers[0] + len(numbers))))
            uuid = self.env["audit.checkpoint"]._database_uuid()
            for before, after in zip(checkpoints, checkpoints[1:], strict=False):
                self.assertEqual(after.prev, chain.checkpoint_digest(before._payload(uuid),
                                                                     before.signature))
            self.assertIsNone(self.Event._verify())
            lines = self.env["audit.checkpoint"]._export_lines()
            self.assertEqual(chain.verify_export(lines), [])

    def test_sql_tampering_of_checkpoints_detected(self):
        with signing_key():
            checkpoints = self.signed_checkpoints(4)
            second, third, last = checkpoints[-3], checkpoints[-2], checkpoints[-1]
            tamperings = {
                "a checkpoint in the middle deleted": (
                    "DELETE FROM audit_checkpoint WHERE id = %s", [third.id]),
                "the last checkpoint deleted": (
                    "DELETE FROM audit_checkpoint WHERE id = %s", [last.id]),
                "two checkpoints swapped": (
                    "UPDATE audit_checkpoint SET number = CASE WHEN id = %s THEN %s ELSE %s END"
                    " WHERE id IN (%s, %s)",
                    [second.id, third.number, second.number, second.id, third.id]),
                "a checkpoint renumbered": (
                    "UPDATE audit_checkpoint SET number = number + 10 WHERE id = %s", [last.id]),
                "a checkpoint's link altered": (
                    "UPDATE audit_checkpoint SET prev = repeat('0', 64) WHERE id = %s", [third.id]),
                "a checkpoint's signing time altered": (
                    "UPDATE audit_checkpoint SET signed_at = signed_at - interval '1 day'"
                    " WHERE id = %s", [second.id]),
                "every checkpoint passed off as another key's": (
                    "WITH state AS (UPDATE audit_chain_state SET last_checkpoint = 0)"
                    " UPDATE audit_checkpoint SET key_id = '0000', signature = 'AAAA',"
                    " prev = 'ff', signed_at = '2020-01-01' WHERE number IS NOT NULL", []),
                "the last checkpoint passed off as another key's": (
                    "UPDATE audit_checkpoint SET key_id = '0000' WHERE id = %s", [last.id]),
                "a checkpoint planted past the head, without a hash": (
                    "INSERT INTO audit_checkpoint (sequence, hash, key_id, signed_at)"
                    " VALUES (999999999999, NULL, 'none', now())", []),
                "a numbered checkpoint planted past the head": (
                    "INSERT INTO audit_checkpoint (number, sequence, hash, key_id, signed_at)"
                    " VALUES (%s, 999999999999, NULL, 'none', now())", [last.number + 1]),
            }
            for name, (query, args) in tamperings.items():
                with self.subTest(tampering=name):
                    self.env.cr.execute("SAVEPOINT tamper")
                    self.env.cr.execute(query, args)
                    self.env["audit.checkpoint"].invalidate_model()
                    result = self.Event._verify()
                    self.assertIsNotNone(result, name)
                    self.assertTrue(result["reason"] in ("missing", "checkpoint")
                                    or result["reason"].startswith("checkpoint"), result)
                    # and checkpointing goes on: the next head is signed
                    self.Event.log("security_event", "after.tampering")
                    self.Event._seal()
                    self.assertTrue(self.env["audit.checkpoint"]._checkpoint_head(), name)
                    self.env.cr.execute("ROLLBACK TO SAVEPOINT tamper")
                    self.env["audit.checkpoint"].invalidate_model()
            self.assertIsNone(self.Event._verify())


@tagged("post_install", "-at_install")
class TestIncrementalVerification(AuditCase):
    def setUp(self):
        super().setUp()
        self.startPatcher(signing_key())
        for i in range(5):
            self.Event.log("security_event", f"old.{i}")
        self.Event._cron_verify()  # a checkpoint, verified: the next run starts there
        self.verified = self.env["audit.checkpoint"].search(
            [("number", "=", self.Event._chain_state("verified_checkpoint"))])
        self.assertTrue(self.verified)
        for i in range(5):
            self.Event.log("security_event", f"new.{i}")
        self.Event._seal()

    def sql(self, query, *args):
        self.env.cr.execute(query, args)
        self.Event.invalidate_model()
        self.env["audit.checkpoint"].invalidate_model()

    def seq(self, action):
        return self.events([("action", "=", action)]).sequence

    def test_the_daily_check_reads_only_what_is_new(self):
        self.assertIsNone(self.Event._verify_incremental())
        # tampering before the verified checkpoint is for the full verification
        self.sql("UPDATE audit_event SET details = '{}' WHERE sequence = %s", self.seq("old.1"))
        self.assertIsNone(self.Event._verify_incremental())
        self.assertEqual(self.Event._verify(), {"sequence": self.seq("old.1"), "reason": "content"})

    def test_moving_where_the_last_run_stopped_does_not_skip_events(self):
        """Tamper with events after the verified checkpoint, have a later one
        signed, and move the record of the last run past them in SQL."""
        target = self.seq("new.2")
        self.Event.env["audit.checkpoint"]._checkpoint_head()
        self.sql("UPDATE audit_event SET changes = '{}' WHERE sequence = %s", target)
        self.sql("UPDATE audit_chain_state SET verified_checkpoint = last_checkpoint")
        self.assertEqual(self.Event._verify_incremental(), {"sequence": target, "reason": "content"})

    def test_the_daily_check_catches_tampering_in_the_new_events(self):
        target = self.seq("new.2")
        self.sql("UPDATE audit_event SET login = 'someone-else' WHERE sequence = %s", target)
        self.assertEqual(self.Event._verify_incremental(), {"sequence": target, "reason": "content"})

    def test_the_daily_check_catches_tampering_with_its_starting_checkpoint(self):
        for query in ("UPDATE audit_event SET hash = repeat('b', 64) WHERE sequence = %s",
                      "UPDATE audit_checkpoint SET hash = repeat('b', 64) WHERE sequence = %s"):
            with self.subTest(query=query):
                self.env.cr.execute("SAVEPOINT tamper")
                self.sql(query, self.verified.sequence)
                self.assertIsNotNone(self.Event._verify_incremental())
                self.env.cr.execute("ROLLBACK TO SAVEPOINT tamper")

    def test_recent_events_cannot_pass_for_older_ones(self):
        # moving the two-level boundary past an event would let a forged
        # redaction of it go unchecked: the checkpoints sign the boundary
        target = self.seq("new.2")
        self.sql("UPDATE audit_chain_state SET digest_v2_from = %s", target + 1)
        self.sql("UPDATE audit_event SET redacted = true, content_digest = NULL, action = NULL"
                 " WHERE sequence = %s", target)
        result = self.Event._verify()
        self.assertIsNotNone(result)
        self.assertEqual(result["reason"], "boundary")

    def test_a_run_moves_the_starting_point(self):
        self.Event._cron_verify()
        newer = self.Event._chain_state("verified_checkpoint")
        self.assertGreater(newer, self.verified.number)
        # a fault the earlier run could not see any more (before its start) is
        # still the full verification's
        self.assertIsNone(self.Event._verify())


@tagged("post_install", "-at_install")
class TestOffDatabaseVerifier(AuditCase):
    """lib/verify.py, the auditor's command: the database's chain against the
    published checkpoints and the public key, trusting nothing else there."""

    def setUp(self):
        super().setUp()
        from ..lib import chain
        self.startPatcher(signing_key())
        Checkpoint = self.env["audit.checkpoint"]
        for i in range(3):
            self.Event.log("security_event", f"offdb.{i}", details={"i": i})
            self.Event._seal()
            Checkpoint._checkpoint_head()
        self.public_pem = chain.public_key_pem(chain.load_private_key(SIGNING_SEED))
        self.published = self.verify_module().load_published(Checkpoint._export_lines())

    def verify_module(self):
        from ..lib import verify
        return verify

    def problems(self, published=None, public_pem=None):
        self.env.flush_all()
        return self.verify_module().verify_database(
            self.env.cr, self.published if published is None else published,
            public_pem or self.public_pem)

    def sql(self, query, *args):
        self.env.cr.execute(query, args)
        self.Event.invalidate_model()

    def test_the_chain_holds_against_what_was_published(self):
        self.assertEqual(self.problems(), [])

    def test_tampering_in_the_database_is_found(self):
        target = self.events([("action", "=", "offdb.1")]).sequence
        tamperings = {
            "content": ("UPDATE audit_event SET details = '{}' WHERE sequence = %s", target),
            "content and its digests": (
                "UPDATE audit_event SET details = '{}', content_digest = repeat('0', 64)"
                " WHERE sequence = %s", target),
            "a forged redaction passing for an old event": (
                "UPDATE audit_event SET redacted = true, content_digest = NULL, details = NULL,"
                " action = NULL WHERE sequence = %s", target),
            "an event marked redacted, its content rewritten": (
                "UPDATE audit_event SET redacted = true, action = 'benign.view',"
                " details = '{\"note\": \"nothing happened\"}' WHERE sequence = %s", target),
            "an event redacted before it was due": (
                "UPDATE audit_event SET redacted = true, action = NULL, outcome = NULL,"
                " uid = NULL, login = NULL, ip = NULL, user_agent = NULL, model = NULL,"
                " res_id = NULL, res_name = NULL, changes = NULL, details = NULL,"
                " request_path = NULL WHERE sequence = %s", target),
            "the start of the chain deleted": (
                "DELETE FROM audit_event WHERE sequence <= %s", target),
            "an event deleted": ("DELETE FROM audit_event WHERE sequence = %s", target),
            "the tail deleted": ("DELETE FROM audit_event WHERE sequence >= %s", target),
            "the database's checkpoints rewritten": (
                "UPDATE audit_checkpoint SET hash = repeat('0', 64) WHERE sequence >= %s", target),
        }
        for name, (query, arg) in tamperings.items():
            with self.subTest(tampering=name):
                self.env.cr.execute("SAVEPOINT tamper")
                self.sql(query, arg)
                problems = self.problems()
                if name == "the database's checkpoints rewritten":
                    self.assertEqual(problems, [], "the published ones are what count")
                else:
                    self.assertTrue(problems, name)
                self.env.cr.execute("ROLLBACK TO SAVEPOINT tamper")

    def test_recent_events_purged_with_a_purge_record_are_found(self):
        """A DBA deletes the start of the chain, moves the anchor and plants a
        purge record that the next sealing chains: the purge was not due."""
        target = self.events([("action", "=", "offdb.1")]).sequence
        self.env.cr.execute("SELECT hash FROM audit_event WHERE sequence = %s", [target])
        anchor_hash = self.env.cr.fetchone()[0]
        self.sql("DELETE FROM audit_event WHERE sequence <= %s", target)
        self.sql("UPDATE audit_chain_state SET anchor_sequence = %s, anchor_hash = %s",
                 target, anchor_hash)
        self.raw_event(action="retention.purge", event_time=fields.Datetime.now(),
                       details=json.dumps({"anchor_sequence": str(target),
                                           "anchor_hash": anchor_hash}))
        self.Event._seal()
        problems = self.problems()
        self.assertTrue([p for p in problems if f"events up to {target} were purged" in p],
                        problems)
        # the module's own verification, full and daily, says so too
        self.assertEqual(self.Event._verify(), {"sequence": target, "reason": "anchor"})
        self.assertEqual(self.Event._verify_incremental(), {"sequence": target, "reason": "anchor"})

    def test_a_purge_that_was_due_passes(self):
        """Events checkpointed more than the floor ago, purged by retention."""
        from datetime import datetime as real_datetime
        from datetime import timedelta

        from ..models import audit_checkpoint
        long_ago = real_datetime.utcnow() - timedelta(days=400)

        class Then(real_datetime):
            @classmethod
            def utcnow(cls):
                return long_ago

        self.sql("UPDATE audit_event SET event_time = event_time - interval '401 days'"
                 " WHERE sequence IS NULL")
        self.Event.log("security_event", "offdb.old")
        self.env.flush_all()
        self.sql("UPDATE audit_event SET event_time = %s WHERE sequence IS NULL",
                 long_ago - timedelta(hours=1))
        self.Event._seal()
        with patch.object(audit_checkpoint, "datetime", Then):
            self.env["audit.checkpoint"]._checkpoint_head()
        old = self.events([("action", "=", "offdb.old")]).sequence
        self.env.cr.execute("SELECT hash FROM audit_event WHERE sequence = %s", [old])
        anchor_hash = self.env.cr.fetchone()[0]
        self.sql("UPDATE audit_event SET redacted = true WHERE sequence <= %s", old)
        published = self.verify_module().load_published(
            self.env["audit.checkpoint"]._export_lines())
        self.sql("DELETE FROM audit_event WHERE sequence <= %s", old)
        self.raw_event(action="retention.purge", event_time=fields.Datetime.now(),
                       details=json.dumps({"anchor_sequence": str(old),
                                           "anchor_hash": anchor_hash}))
        self.Event._seal()
        problems = self.problems(published=published)
        self.assertFalse([p for p in problems if "purge" in p], problems)

    def test_a_forged_or_incomplete_publication_is_found(self):
        from ..lib import chain
        other = chain.public_key_pem(chain.load_private_key(
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="))
        self.assertTrue(self.problems(public_pem=other), "another key")
        self.assertTrue(self.problems(published=[self.published[0], self.published[-1]]),
                        "a checkpoint missing from the publication")
        self.assertTrue(self.problems(published=[]), "nothing published")

