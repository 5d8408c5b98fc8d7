"""Everything that can lose or expose backups is the Owner's: an Admin, over
XML-RPC, changes none of it, and the backups are all still there; an Admin
backs up, verifies and reads the history. The Owner's weakening is an event
sealed before the change, with an alert."""
import base64
import json
import secrets
import xmlrpc.client
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from odoo.addons.security_roles.tests.common import (
    RoleRpc,
    password_logins_for_admins,
    role_users,
)

from ..lib import s3 as s3lib
from ..models.selfhost_backup_profile import OWNER_FIELDS
from .common import s3_settings

# For each of the Owner's fields, a change an attacker would make.
WEAKER = {
    "name": "renamed", "active": False, "endpoint_url": "http://127.0.0.1:9",
    "region": "eu-attacker-1", "bucket": "attacker", "prefix": "elsewhere",
    "addressing_style": "virtual", "checksum_compat": True, "encrypt": False,
    "credentials_source": "config", "config_name": "mine", "new_access_key_id": "AKIDMINE",
    "new_secret_access_key": "mine", "include_filestore": False, "compression": "none",
    "sse": "aws:kms", "sse_kms_key_id": "arn:aws:kms:attacker", "object_lock_mode": "none",
    "object_lock_days": 1, "daily": False, "keep_count": 1, "keep_days": 1,
}
HOSTILE_CONTEXTS = ({}, {"_force_unlink": True}, {"install_mode": True})


@tagged("post_install", "-at_install")
class TestBackupsAgainstAdmin(RoleRpc, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)
        password_logins_for_admins(cls.env)
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        key_patch = patch.dict(config.options, {"selfhost_backup_encryption_key": key})
        key_patch.start()
        cls.addClassCleanup(key_patch.stop)

    def setUp(self):
        super().setUp()
        self.s3 = s3_settings(self)
        self.prefix = "owner-only-" + secrets.token_hex(4)
        self.client = s3lib.make_client(self.s3["ENDPOINT"], None, self.s3["ACCESS_KEY"],
                                        self.s3["SECRET_KEY"], "path")
        self.profile = self.env["selfhost.backup.profile"].create({
            "name": "offsite " + secrets.token_hex(3), "endpoint_url": self.s3["ENDPOINT"],
            "bucket": self.s3["BUCKET"], "prefix": self.prefix, "addressing_style": "path",
            "credentials_source": "stored", "new_access_key_id": self.s3["ACCESS_KEY"],
            "new_secret_access_key": self.s3["SECRET_KEY"], "include_filestore": False,
            "keep_count": 5, "keep_days": 30})
        self.run_ = self.profile._run_backup()
        self.assertEqual(self.run_.state, "done", self.run_.error)
        # protections on, so that switching them off is an attack too
        self.profile.write({"object_lock_mode": "GOVERNANCE", "object_lock_days": 30,
                            "sse": "AES256", "include_filestore": True})

    def stored_keys(self):
        return sorted(k for k, _s, _m in s3lib.list_keys(self.client, self.s3["BUCKET"],
                                                          self.prefix + "/"))

    def snapshot(self):
        profile = self.profile.sudo().with_context(active_test=False)
        profile.invalidate_recordset()
        values = {name: profile[name] for name in OWNER_FIELDS if profile._fields[name].store}
        # the stored credentials (columns only the server reads)
        values["stored credentials"] = profile._stored_credentials()[profile.id]
        return values

    def test_admin_changes_nothing_that_loses_or_exposes_backups(self):
        self.assertEqual(set(WEAKER), set(OWNER_FIELDS), "every Owner field is attacked")
        keys, before = self.stored_keys(), self.snapshot()
        self.assertTrue(keys)
        Profile = "selfhost.backup.profile"
        for name, value in WEAKER.items():
            for context in HOSTILE_CONTEXTS:
                with self.subTest(field=name, context=context), \
                        self.assertRaises(xmlrpc.client.Fault):
                    self.rpc(Profile, "write", self.profile.ids, {name: value}, context=context)
        for method in ("action_archive", "unlink"):
            with self.subTest(method=method), self.assertRaises(xmlrpc.client.Fault):
                self.rpc(Profile, method, self.profile.ids)
        with self.assertRaises(xmlrpc.client.Fault):
            self.rpc(Profile, "create", {"name": "mine", "bucket": self.s3["BUCKET"],
                                         "prefix": "mine", "endpoint_url": self.s3["ENDPOINT"]})
        with self.assertRaises(xmlrpc.client.Fault):
            self.rpc(Profile, "copy", self.profile.ids, {"prefix": "copy"})
        # the schedule: the backup jobs
        jobs = self.env["ir.cron"].with_user(self.owner).with_context(
            active_test=False).search([("model_id.model", "=", Profile)])
        self.assertEqual(len(jobs), 2)
        for job in jobs:
            for vals in ({"active": False}, {"nextcall": "2999-01-01 00:00:00"},
                         {"interval_type": "months", "interval_number": 12}):
                with self.subTest(job=job.name, vals=vals), self.assertRaises(xmlrpc.client.Fault):
                    self.rpc("ir.cron", "write", job.ids, vals)
            with self.assertRaises(xmlrpc.client.Fault):
                self.rpc("ir.cron", "unlink", job.ids)
        # the runs (the history) are read-only to Admins
        for method, args in (("unlink", []), ("write", [{"state": "failed"}])):
            with self.assertRaises(xmlrpc.client.Fault):
                self.rpc("selfhost.backup.run", method, self.run_.ids, *args)
        # outcome: nothing moved, every backup is still there
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.stored_keys(), keys)
        self.assertTrue(all(jobs.mapped("active")))
        self.assertTrue(self.profile.active)
        # and the refusal is audited (in-process: an RPC's test cursor rolls its
        # own-cursor event back with the failed call)
        Event = self.env["audit.event"]
        Event._flush_buffer()
        denied = Event.search_count([("outcome", "=", "denied"), ("model", "=", Profile)])
        try:
            self.profile.with_user(self.admin).keep_count = 1
        except AccessError:
            pass
        else:
            self.fail("an Admin lowered the retention")
        Event._flush_buffer()
        self.assertGreater(Event.search_count([("outcome", "=", "denied"),
                                               ("model", "=", Profile)]), denied)

    def test_admin_backs_up_verifies_and_reads_the_history(self):
        Profile = "selfhost.backup.profile"
        # the backup of setUp was asked for a while ago
        self.run_.sudo().started_at = fields.Datetime.subtract(fields.Datetime.now(), hours=2)
        action = self.rpc(Profile, "action_backup_now", self.profile.ids)
        self.assertEqual(action["params"]["title"], "Backup started")
        self.assertTrue(self.profile.backup_requested)
        # nobody cancels it, nor runs the backup jobs out of turn
        cron = self.env.ref("selfhost_backup.ir_cron_selfhost_backup_requested")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertTrue(triggers)
        with self.assertRaises(xmlrpc.client.Fault):
            self.rpc("ir.cron.trigger", "unlink", triggers.ids)
        for job in (cron, self.env.ref("selfhost_backup.ir_cron_selfhost_backup")):
            with self.assertRaises(xmlrpc.client.Fault):
                self.rpc("ir.cron.trigger", "create", {"cron_id": job.id})
        # nor asks again within the hour: a burst would push older backups out
        self.profile.sudo().backup_requested = False
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(Profile, "action_backup_now", self.profile.ids)
        self.assertIn("less than 60 minutes ago", caught.exception.faultString)
        self.owner_rpc(Profile, "action_backup_now", self.profile.ids)  # the Owner may
        result = self.rpc("selfhost.backup.run", "action_verify", self.run_.ids)
        self.assertEqual(result["params"]["type"], "success", result)
        self.assertEqual(self.run_.verify_state, "ok")
        history = self.rpc("selfhost.backup.run", "search_read",
                           [("profile_id", "=", self.profile.id)], fields=["state", "backup_id"])
        self.assertEqual([r["backup_id"] for r in history], [self.run_.backup_id])
        # keeping backups longer loses nothing: open to Admins
        self.rpc(Profile, "write", self.profile.ids, {"keep_count": 0, "keep_days": 60})
        self.assertEqual((self.profile.keep_count, self.profile.keep_days), (0, 60))
        # switching a protection on is not: it can stop every backup, or bind the
        # bucket for years; nor is reviving a profile the Owner archived
        self.profile.active = False
        for vals in ({"object_lock_mode": "COMPLIANCE", "object_lock_days": 36500},
                     {"object_lock_days": 36500}, {"encrypt": True, "active": True},
                     {"active": True}, {"daily": True, "active": True}):
            with self.subTest(vals=vals), self.assertRaises(xmlrpc.client.Fault):
                self.rpc(Profile, "write", self.profile.ids, vals)
        self.assertFalse(self.profile.with_context(active_test=False).active)

    def test_owner_weakening_is_sealed_first_and_alerted(self):
        self.env["audit.event"]._flush_buffer()
        self.env.cr.execute("SELECT coalesce(max(id), 0) FROM audit_event")
        start = self.env.cr.fetchone()[0]
        self.owner_rpc("selfhost.backup.profile", "write", self.profile.ids,
                       {"keep_count": 1, "sse": "none"})
        self.assertEqual(self.profile.keep_count, 1)
        Event = self.env["audit.event"]
        event = Event.search([("action", "=", "protection.weakened"), ("id", ">", start),
                              ("model", "=", "selfhost.backup.profile")])
        self.assertEqual(len(event), 1)
        self.assertTrue(event.sequence, "sealed into the chain when the change was made")
        details = json.loads(event.details)
        self.assertEqual(details["fields"], ["keep_count", "sse"])
        self.assertEqual(details["before"][str(self.profile.id)],
                         {"keep_count": 5, "sse": "AES256"})
        self.assertEqual(event.uid, self.owner.id)
        alert = self.env["audit.alert"].search([("code", "=", "protection_weakened")], limit=1)
        self.assertIn("Keep Count", alert.message)
