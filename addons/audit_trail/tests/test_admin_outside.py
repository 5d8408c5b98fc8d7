"""The audit trail holds against a hostile Admin, over XML-RPC: events stay,
retention and recording are weakened by the Owner only (never below the
floor), the trail's jobs and its uninstallation are the Owner's, and every
weakening by the Owner is an event sealed before the change, with an alert."""
import json
import os
import xmlrpc.client
from datetime import datetime
from unittest.mock import patch

from odoo import sql_db
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from odoo.addons.base.models import ir_module
from odoo.addons.security_roles.tests.common import (
    RoleRpc,
    password_logins_for_admins,
    role_users,
)

from ..lib import chain
from ..models import audit_event as audit_event_module
from ..models.audit_retention import SEED_DAYS
from .common import signing_key

# context keys an RPC caller may send, hoping one switches a check off
HOSTILE_CONTEXTS = ({}, {"_force_unlink": True}, {"module_uninstall": True},
                    {"install_mode": True}, {"active_test": False, "tracking_disable": True})


@tagged("post_install", "-at_install")
class TestAuditAgainstAdmin(RoleRpc, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)
        password_logins_for_admins(cls.env)
        cls.Event = cls.env["audit.event"]

    def assert_refused(self, call, *args, msg=None, **kw):
        with self.assertRaises(xmlrpc.client.Fault, msg=msg):
            call(*args, **kw)

    def count(self, table):
        self.Event._flush_buffer()
        self.env.cr.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
        return self.env.cr.fetchone()[0]

    def assert_denied_audited(self, records, method, *args):
        """The same refusal, called in-process: its denial event is committed on
        a cursor of its own (an RPC's test cursor rolls it back with the call)."""
        before = self.denials(records._name)
        try:  # not assertRaises: its savepoint would roll the denial event back
            getattr(records.with_user(self.admin), method)(*args)
        except AccessError:
            pass
        else:
            self.fail(f"{records._name}.{method} allowed")
        self.assertGreater(self.denials(records._name), before, f"{records._name}.{method}")

    def denials(self, model):
        self.Event._flush_buffer()
        return self.Event.search_count([("outcome", "=", "denied"), ("model", "=", model),
                                        ("uid", "=", self.admin.id)])

    def setUp(self):
        super().setUp()
        # other modules' tests commit their own-cursor events for real
        self.Event._flush_buffer()
        self.env.cr.execute("SELECT coalesce(max(id), 0) FROM audit_event")
        self.start_id = self.env.cr.fetchone()[0]

    def weakenings(self, model):
        self.Event._flush_buffer()
        return self.Event.search([("action", "=", "protection.weakened"), ("model", "=", model),
                                  ("id", ">", self.start_id)])

    # ------------------------------------------------------------------
    def test_append_only_for_everyone(self):
        """Every append-only model of the registry, every write path, every
        context flag, even after the Owner grants Admins unlink on it."""
        with signing_key():
            self.Event.log("security_event", "before.attack")
            self.Event._seal()
            self.env["audit.checkpoint"]._checkpoint_head()
        models_ = sorted(self.env.registry["audit.append.only.mixin"]._inherit_children)
        self.assertEqual(set(models_), {"audit.event", "audit.checkpoint"})
        before = {name: self.count(name.replace(".", "_")) for name in models_}
        # the Owner gives Admins every right on them (the Owner may: it is code)
        admin_group = self.env.ref("security_roles.group_role_admin")
        for name in models_:
            self.owner_rpc("ir.model.access", "create", {
                "name": f"admin unlink {name}", "group_id": admin_group.id,
                "model_id": self.env["ir.model"]._get_id(name), "perm_read": True,
                "perm_write": True, "perm_create": True, "perm_unlink": True})
        # and an Admin cannot give it to itself
        self.assert_refused(self.rpc, "ir.model.access", "create", {
            "name": "mine", "group_id": admin_group.id,
            "model_id": self.env["ir.model"]._get_id("audit.event"), "perm_unlink": True})
        for name in models_:
            ids = self.env[name].sudo().search([], limit=5).ids
            self.assertTrue(ids, name)
            for context in HOSTILE_CONTEXTS:
                for call in (self.rpc, self.owner_rpc):
                    self.assert_refused(call, name, "unlink", ids, context=context,
                                        msg=f"{name} {context}")
                    self.assert_refused(call, name, "write", ids, {"hash": "0" * 64},
                                        context=context, msg=f"{name} {context}")
                    self.assert_refused(call, name, "create", {"hash": "0" * 64},
                                        context=context, msg=f"{name} {context}")
        after = {name: self.count(name.replace(".", "_")) for name in models_}
        self.assertEqual(after["audit.checkpoint"], before["audit.checkpoint"])
        self.assertGreaterEqual(after["audit.event"], before["audit.event"],
                                "events only ever grow (the refusals are events too)")
        self.assertTrue(self.Event.search([("action", "=", "before.attack")]))
        self.assert_denied_audited(self.Event.sudo().search([], limit=1).sudo(False), "unlink")
        self.assertIsNone(self.Event._verify())

    def test_retention_lowered_by_the_owner_only_and_never_below_the_floor(self):
        policies = self.env["audit.retention"].search([])
        self.assertEqual(set(policies.mapped("category")), set(SEED_DAYS))
        for policy in policies:
            for days in (1, policy.days - 1):
                self.assert_refused(self.rpc, "audit.retention", "write", policy.ids,
                                    {"days": days}, msg=policy.category)
        self.assert_refused(self.rpc, "audit.retention", "unlink", policies.ids)
        self.assert_refused(self.rpc, "audit.retention", "create",
                            {"category": "authentication", "days": 1})
        self.assertEqual({p.category: p.days for p in policies.sudo()}, SEED_DAYS)
        self.assert_denied_audited(policies[:1], "write", {"days": 1})
        # keeping longer, or forever, is open to Admins
        auth = policies.filtered(lambda p: p.category == "authentication")
        self.rpc("audit.retention", "write", auth.ids, {"days": 400})
        self.rpc("audit.retention", "write", auth.ids, {"days": 0})
        self.assertEqual(auth.days, 0)
        # the Owner shortens it again, down to the floor and no further
        self.owner_rpc("audit.retention", "write", auth.ids, {"days": 120})
        self.assertEqual(auth.days, 120)
        event = self.weakenings("audit.retention")
        self.assertEqual(len(event), 1)
        self.assertTrue(event.sequence, "sealed when the change was made")
        self.assertEqual(json.loads(event.details)["fields"], ["days"])
        self.assertEqual(json.loads(event.details)["before"], {str(auth.id): {"days": 0}})
        self.assertTrue(self.env["audit.alert"].search([("code", "=", "protection_weakened")]))
        for policy in policies:
            with self.assertRaises(ValidationError, msg=policy.category):
                policy.with_user(self.owner).days = SEED_DAYS[policy.category] - 1
        # unless odoo.conf lowers the floor
        with patch.dict(config.options, {"audit_retention_floor_days": "30"}):
            auth.with_user(self.owner).days = 30
            self.assertEqual(auth.days, 30)
            with self.assertRaises(ValidationError):
                auth.with_user(self.owner).days = 29

    def test_purge_never_goes_below_the_floor(self):
        self.env.cr.execute("UPDATE audit_retention SET days = 1")  # behind the ORM's back
        self.Event.invalidate_model()
        cutoffs = self.Event._retention_cutoffs()
        self.assertEqual(set(cutoffs), set(SEED_DAYS))
        now = datetime.utcnow()
        for category, cutoff in cutoffs.items():
            self.assertGreaterEqual((now - cutoff).days, SEED_DAYS[category], category)

    def test_default_recording_weakened_by_the_owner_only(self):
        Rule = self.env["audit.rule"]
        rules = Rule.search([])
        protected = rules._security_owner_protected()
        # the defaults: who may do what, and every audited model of the suite
        self.assertTrue({"res.users", "res.groups", "ir.model.access", "ir.rule",
                         "res.users.apikeys", "ir.config_parameter", "audit.rule",
                         "audit.retention"} <= set(protected.mapped("model")))
        for name in self.env.registry:
            model = self.env[name]
            if getattr(model, "_original_module", None) in ("security_roles", "audit_trail"):
                self.assertTrue(Rule._audit_protected_model(name), name)
        other = self.env["ir.model"]._get_id("res.country")
        for rule in protected:
            for vals in ({"log_create": False}, {"log_write": False}, {"log_unlink": False},
                         {"active": False}, {"model_id": other}):
                if all(rule[k] == v for k, v in vals.items()):
                    continue  # already so (audit.alert: creations are not recorded)
                self.assert_refused(self.rpc, "audit.rule", "write", rule.ids, vals,
                                    msg=f"{rule.model} {vals}")
            for context in HOSTILE_CONTEXTS:
                self.assert_refused(self.rpc, "audit.rule", "unlink", rule.ids, context=context,
                                    msg=rule.model)
        self.assertEqual(Rule.search([]), rules)
        self.assertTrue(all(r.log_create or r.model == "audit.alert" for r in rules))
        self.assertTrue(all(r.log_write and r.log_unlink for r in rules))
        # what Admins may do: record more
        (new_rule,) = [self.rpc("audit.rule", "create", {
            "model_id": self.env["ir.model"]._get_id("res.partner"), "log_create": False})]
        self.rpc("audit.rule", "write", [new_rule], {"log_create": True})
        self.rpc("audit.rule", "unlink", [new_rule])  # not a default one
        # the Owner may weaken a default one: sealed event first, and an alert
        users_rule = protected.filtered(lambda r: r.model == "res.users")
        self.owner_rpc("audit.rule", "write", users_rule.ids, {"log_write": False})
        self.assertFalse(users_rule.log_write)
        event = self.weakenings("audit.rule")
        self.assertEqual(len(event), 1)
        self.assertTrue(event.sequence)
        self.assertEqual(json.loads(event.details)["records"], users_rule.ids)

    def test_the_trail_jobs_are_the_owners(self):
        jobs = self.env["ir.cron"].with_user(self.owner).with_context(
            active_test=False).search([])._security_owner_protected()
        job_models = set(jobs.mapped("model_id.model"))
        self.assertTrue({"audit.event", "audit.checkpoint"} <= job_models)
        codes = " ".join(jobs.mapped("code"))
        for method in ("_cron_seal", "_cron_verify", "_cron_retention", "_checkpoint_head"):
            self.assertIn(method, codes)
        for job in jobs:
            for vals in ({"active": False}, {"interval_number": 999, "interval_type": "months"},
                         {"nextcall": "2999-01-01 00:00:00"}, {"code": "pass"}):
                self.assert_refused(self.rpc, "ir.cron", "write", job.ids, vals,
                                    msg=f"{job.name} {vals}")
            self.assert_refused(self.rpc, "ir.cron", "unlink", job.ids, msg=job.name)
        self.assertTrue(all(jobs.mapped("active")))
        self.assert_denied_audited(jobs[:1], "write", {"active": False})
        # the Owner may, and it is reported before the job stops
        seal = jobs.filtered(lambda j: "_cron_seal" in j.code)
        self.owner_rpc("ir.cron", "write", seal.ids, {"active": False})
        event = self.weakenings("ir.cron")
        self.assertEqual(len(event), 1)
        self.assertTrue(event.sequence)
        # or its code, through the server action it runs
        self.owner_rpc("ir.actions.server", "write", seal.ir_actions_server_id.ids,
                       {"code": "pass"})
        self.assertEqual(len(self.weakenings("ir.actions.server")), 1)

    def test_uninstall_is_the_owners_and_leaves_a_signed_export(self):
        module = self.env["ir.module.module"].search([("name", "=", "audit_trail")])
        roles = self.env["ir.module.module"].search([("name", "=", "security_roles")])
        for target in (module, roles):
            for method in ("button_uninstall", "button_immediate_uninstall", "module_uninstall"):
                self.assert_refused(self.rpc, "ir.module.module", method, target.ids,
                                    msg=f"{target.name} {method}")
            self.assert_refused(self.rpc, "ir.module.module", "write", target.ids,
                                {"state": "to remove"})
        self.assertEqual(module.state, "installed")
        # without a signing key, not even the Owner can start it
        with patch.dict("os.environ", {"AUDIT_SIGNING_KEY": ""}), \
                patch.dict(config.options, {"audit_signing_key": "", "audit_signing_key_file": ""}):
            # assertRaises (not ...Regex): its savepoint rolls back, as the request would
            with self.assertRaises(UserError) as caught:
                module.with_user(self.owner).button_uninstall()
            self.assertIn("signing key", str(caught.exception))
        module.invalidate_recordset()
        self.assertEqual(module.state, "installed")
        # what the uninstallation leaves: a sealed last event, a signed checkpoint of it,
        # and the whole chain exported outside the database
        self.Event.log("security_event", "history")
        folder = os.path.join(config["data_dir"], "audit_trail", "test-export")
        with signing_key(), \
                patch.dict(config.options, {"audit_final_export_dir": folder}):
            path = self.env["audit.checkpoint"].with_user(self.owner)._final_export()
        self.addCleanup(os.unlink, path)
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        self.assertEqual(oct(os.stat(path).st_mode & 0o777), "0o600")
        self.assertEqual(chain.verify_export(lines), [])
        records = [json.loads(line) for line in lines]
        events = [r for r in records if r.get("type") == "event"]
        checkpoints = [r for r in records[1:] if r.get("type") != "event"]
        self.assertEqual(events[-1]["action"], "audit_trail.uninstall")
        self.assertEqual(events[-1]["user_id"], self.owner.id)
        self.assertEqual(checkpoints[-1]["sequence"], events[-1]["sequence"])
        self.assertIn("history", [e["action"] for e in events])
        self.assertTrue(self.env["audit.alert"].search([("code", "=", "audit_trail_removed")]))
        # the Owner uninstalling another module of the suite: its protections go
        # with its tables, reported first (Odoo's removal itself is stubbed here)
        backup = self.env["ir.module.module"].search([("name", "=", "selfhost_backup")])
        with patch.object(ir_module.Module, "module_uninstall", lambda self: True):
            backup.with_user(self.owner).module_uninstall()
        event = self.weakenings("ir.module.module")
        self.assertEqual(len(event), 1)
        self.assertTrue(event.sequence)
        self.assertEqual(json.loads(event.details)["records"], backup.ids)
        # a forged line is caught by the export's own links
        forged = json.loads(lines[-1])
        forged["action"], forged["hash"] = "x", "0" * 64
        self.assertTrue(chain.verify_export([*lines[:-1], json.dumps(forged)]))

    def test_rule_names_alerts_and_job_triggers_are_not_the_admins(self):
        """A rule recorded under a name it does not watch, an alert rewritten,
        a protected job run over and over: all refused."""
        Rule = self.env["audit.rule"]
        protected = Rule.search([])._security_owner_protected()
        for rule in protected:
            for name in ("x.nothing", False):
                self.assert_refused(self.rpc, "audit.rule", "write", rule.ids, {"model": name},
                                    msg=rule.model)
        self.assertIn("res.users", Rule._rules_by_model())
        alert = self.env["audit.alert"].raise_alert("test_alert", "Something happened",
                                                    "details", severity="critical")
        for vals in ({"name": "Backup OK"}, {"message": "nothing happened"},
                     {"severity": "info"}, {"code": "noise"}, {"key": "x"},
                     {"webhook_status": "HTTP 200"}):
            self.assert_refused(self.rpc, "audit.alert", "write", alert.ids, vals, msg=str(vals))
        # nor are its deliveries recalled: the e-mail and the inbox message
        messages = self.env["mail.message"].search([("model", "=", "audit.alert"),
                                                    ("res_id", "=", alert.id)])
        self.assertTrue(messages)
        # (tests send mails at once: one still queued, as the mail queue holds them)
        mails = self.env["mail.mail"].create({
            "model": "audit.alert", "res_id": alert.id, "subject": alert.name,
            "body_html": alert.message, "recipient_ids": [(6, 0, self.owner.partner_id.ids)]})
        for method, args in (("unlink", []), ("write", [{"email_to": "evil@example.com"}]),
                             ("write", [{"recipient_ids": [(6, 0, [])]}]),
                             ("write", [{"state": "cancel"}]), ("cancel", [])):
            self.assert_refused(self.rpc, "mail.mail", method, mails.ids, *args, msg=method)
        self.assert_refused(self.rpc, "mail.message", "unlink", messages.ids)
        self.assertEqual(mails.exists().mapped("state"), ["outgoing"] * len(mails))
        self.rpc("audit.alert", "action_acknowledge", alert.ids)
        self.assertEqual((alert.name, alert.severity, alert.state),
                         ("Something happened", "critical", "acknowledged"))
        jobs = self.env["ir.cron"].with_user(self.owner).with_context(
            active_test=False).search([])._security_owner_protected()
        for job in jobs:
            self.assert_refused(self.rpc, "ir.cron.trigger", "create", {"cron_id": job.id},
                                msg=job.name)
        trigger = self.env["ir.cron.trigger"].create({"cron_id": jobs[0].id})
        self.assert_refused(self.rpc, "ir.cron.trigger", "unlink", trigger.ids)
        self.assertTrue(trigger.exists())
        # other jobs stay the Admins' to run sooner
        other = self.env.ref("base.autovacuum_job")
        self.rpc("ir.cron.trigger", "create", {"cron_id": other.id})

    def test_owner_weakening_refused_when_its_event_cannot_be_sealed_first(self):
        auth = self.env["audit.retention"].search([("category", "=", "authentication")])
        auth.days = 400
        holder = sql_db.db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(holder.close)
        holder.execute("SELECT pg_advisory_lock(hashtext('audit_trail.seal'))")
        self.addCleanup(holder.execute, "SELECT pg_advisory_unlock(hashtext('audit_trail.seal'))")
        with patch.object(audit_event_module, "SEAL_BUDGET", 6), \
                self.assertRaises(UserError) as caught:
            auth.with_user(self.owner).days = 120
        self.assertIn("could not seal", str(caught.exception))
        auth.invalidate_recordset()
        self.assertEqual(auth.days, 400)
