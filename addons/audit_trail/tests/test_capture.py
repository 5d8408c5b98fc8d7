import contextlib
import json
from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.audit_trail.models.audit_event import BUFFER_KEY
from odoo.addons.security_roles.models import res_users_apikeys
from odoo.addons.security_roles.tests.common import role_users

from .common import AuditCase, last_event_id


@tagged("post_install", "-at_install")
class TestCapture(AuditCase):
    def test_changes_to_audited_models_with_old_and_new_values(self):
        # system parameters are the Owner's (security_roles)
        ICP = self.env["ir.config_parameter"].with_user(self.owner)
        ICP.set_param("audit.test.param", "one")
        ICP.set_param("audit.test.param", "two")
        param = ICP.sudo().search([("key", "=", "audit.test.param")])
        param.with_user(self.owner).unlink()
        self.Event._seal()  # the sealer fills in the login snapshot
        create, write, unlink = self.events([("model", "=", "ir.config_parameter"),
                                             ("res_id", "=", param.id)])
        self.assertEqual((create.action, write.action, unlink.action), ("create", "write", "unlink"))
        for event in (create, write, unlink):
            self.assertEqual((event.category, event.outcome, event.uid, event.login),
                             ("resource_change", "success", self.owner.id, "admin"))
        self.assertEqual(json.loads(create.changes)["value"], [None, "one"])
        self.assertEqual(json.loads(write.changes), {"value": ["one", "two"]})
        self.assertEqual(unlink.res_name, "audit.test.param")

    def test_group_and_role_changes(self):
        group = self.env.ref("base.group_partner_manager")
        self.editor.with_user(self.admin).write({"groups_id": [(4, self.groups["admin"].id)]})
        role = self.events([("action", "=", "role.change"), ("res_id", "=", self.editor.id)])
        self.assertEqual(json.loads(role.changes), {"security_role": ["editor", "admin"]})
        self.assertEqual(role.category, "security_event")
        change = self.events([("model", "=", "res.users"), ("action", "=", "write"),
                              ("res_id", "=", self.editor.id)])[-1:]
        self.assertIn(self.groups["admin"].id, json.loads(change.changes)["groups_id"][1])
        group.with_user(self.owner).write({"users": [(4, self.viewer.id)]})  # groups: the Owner's
        self.assertTrue(self.events([("model", "=", "res.groups"), ("res_id", "=", group.id)]))

    def test_unaudited_models_are_silent_until_configured(self):
        partner = self.env["res.partner"].create({"name": "Quiet"})
        partner.write({"name": "Still quiet"})
        self.assertFalse(self.events([("model", "=", "res.partner")]))
        self.env["audit.rule"].create({"model_id": self.env["ir.model"]._get_id("res.partner"),
                                       "log_create": False})
        partner.write({"name": "Heard"})
        self.env["res.partner"].create({"name": "Created, not logged"})
        events = self.events([("model", "=", "res.partner")])
        self.assertEqual(events.mapped("action"), ["write"])
        self.assertEqual(json.loads(events.changes), {"name": ["Still quiet", "Heard"]})

    def test_write_events_per_field_type(self):
        """Old and new values of each kind of column, only the changed ones,
        one event per changed record."""
        self.env["audit.rule"].create({"model_id": self.env["ir.model"]._get_id("res.partner")})
        country = self.env.ref("base.be")
        long_text = "x" * 2500
        partners = self.env["res.partner"].create([
            {"name": "One", "comment": "<p>first</p>", "color": 3},
            {"name": "Two", "color": 0, "is_company": True}])
        start = last_event_id(self.env)
        partners.write({"comment": long_text, "color": 3, "country_id": country.id,
                        "is_company": True, "ref": "R-2", "type": "invoice"})
        partners[0].write({"name": "One"})  # no change: no event
        events = self.Event.search([("id", ">", start)], order="id")
        self.assertEqual(events.mapped("res_id"), partners.ids)
        one, two = (json.loads(e.changes) for e in events)
        truncated = "<p>" + long_text[:1997]  # html fields are sanitized: <p> wraps the text
        self.assertEqual(set(one), {"comment", "country_id", "is_company", "ref", "type"})
        self.assertEqual(one["comment"][0], "<p>first</p>")
        self.assertTrue(one["comment"][1].startswith(truncated[:100]))
        self.assertTrue(one["comment"][1].endswith("…"))
        self.assertEqual(one["country_id"], [None, country.id])
        self.assertEqual(one["is_company"], [False, True])
        self.assertEqual(one["ref"], [None, "R-2"])
        self.assertEqual(one["type"], ["contact", "invoice"])
        self.assertEqual(two["comment"][0], None)
        self.assertEqual(two["color"], [0, 3])
        self.assertNotIn("is_company", two)  # unchanged

    def test_a_flush_during_the_write_keeps_the_old_values(self):
        """An override that flushes inside write() (as a search in a model's
        write does): the event still holds the values from before the write."""
        self.env["audit.rule"].create({"model_id": self.env["ir.model"]._get_id("res.partner")})
        partner = self.env["res.partner"].create({"name": "Before", "comment": "old"})
        self.env.flush_all()
        start = last_event_id(self.env)
        Partner = type(partner)
        original = Partner._validate_fields

        def flushing_validate(records, *args, **kwargs):
            records.env.flush_all()  # as a search() in a model's write() would
            return original(records, *args, **kwargs)

        with patch.object(Partner, "_validate_fields", flushing_validate):
            partner.write({"comment": "new", "ref": "R-1"})
        event = self.Event.search([("id", ">", start)])
        self.assertEqual(json.loads(event.changes), {"comment": ["<p>old</p>", "<p>new</p>"],
                                                     "ref": [None, "R-1"]})

    def test_secrets_never_reach_an_event(self):
        secret_values = ["correct-horse-battery", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "s3cr3t-v4lue"]
        self.viewer.sudo().write({"password": secret_values[0]})
        self.viewer.sudo().write({"totp_secret": secret_values[1]})
        self.env["ir.config_parameter"].set_param("some.api_key", secret_values[2])
        key = self.env["res.users.apikeys"].with_user(self.editor)._generate(
            None, "integration", fields.Datetime.now() + timedelta(days=1))
        secret_values.append(key)
        self.env.cr.execute("SELECT coalesce(changes, '') || coalesce(details, '') FROM audit_event")
        logged = " ".join(row[0] for row in self.env.cr.fetchall())
        self.assertTrue(logged)
        for value in secret_values:
            self.assertNotIn(value, logged)
        password_change = self.events([("model", "=", "res.users"), ("res_id", "=", self.viewer.id),
                                       ("action", "=", "write")])
        self.assertIn('"password": ["[Filtered]", "[Filtered]"]', " ".join(password_change.mapped("changes")))
        created = self.events([("action", "=", "api_key.create")])
        self.assertEqual(json.loads(created.details)["name"], "integration")

    def test_access_denials_recorded(self):
        # no assertRaises: its savepoint would roll the denial event back with it
        with contextlib.suppress(AccessError):
            self.env["res.partner"].with_user(self.viewer).create({"name": "nope"})
        partner = self.env["res.partner"].create({"name": "Company only", "company_id": False})
        other_company = self.env["res.company"].create({"name": "Other Co"})
        restricted = self.env["res.partner"].create({"name": "Other", "company_id": other_company.id})
        with contextlib.suppress(AccessError):
            restricted.with_user(self.editor).read(["name"])
        acl, rule = self.events([("category", "=", "authorization")])
        self.assertEqual((acl.outcome, acl.model, acl.uid), ("denied", "res.partner", self.viewer.id))
        self.assertEqual(json.loads(acl.details), {"by": "acl", "operation": "create"})
        self.assertEqual((rule.model, rule.res_id, rule.uid), ("res.partner", restricted.id, self.editor.id))
        self.assertEqual(json.loads(rule.details)["by"], "record_rule")
        self.assertTrue(partner)

    def test_a_set_command_keeps_the_links_the_user_cannot_see(self):
        """The snapshot of a many2many is read as the user: the Owner (who alone
        edits groups) replacing a group's members removes only the users of the
        selected companies (the portal users of another company stay)."""
        other = self.env["res.company"].create({"name": "Hidden Co"})
        hidden = self.env["res.users"].create({
            "name": "Hidden portal user", "login": "audit.hidden.portal",
            "company_id": other.id, "company_ids": [(6, 0, other.ids)],
            "groups_id": [(6, 0, self.env.ref("base.group_portal").ids)]})
        group = self.env["res.groups"].create({"name": "Audit set test",
                                               "users": [(6, 0, [hidden.id, self.viewer.id])]})
        self.env.invalidate_all()
        as_admin = group.with_user(self.owner).with_context(
            allowed_company_ids=self.env.company.ids)
        self.assertNotIn(hidden, as_admin.users)
        as_admin.write({"users": [Command.set([self.viewer.id, self.editor.id])]})
        self.env.invalidate_all()
        self.assertEqual(group.users, hidden | self.viewer | self.editor)
        changes = [json.loads(event.changes) for event in self.events(
            [("model", "=", "res.groups"), ("res_id", "=", group.id), ("action", "=", "write"),
             ("uid", "=", self.owner.id)])]
        self.assertEqual([change["users"] for change in changes if "users" in change],
                         [[sorted(self.viewer.ids), sorted((self.viewer | self.editor).ids)]])

    def test_ownership_transfer_and_key_revocation(self):
        self.env["security.ownership.transfer"].with_user(self.owner).create(
            {"new_owner_id": self.admin.id, "password": "admin"}).action_transfer()
        transfer = self.events([("action", "=", "ownership.transfer")])
        self.assertEqual(json.loads(transfer.details), {"from": "admin", "to": "role.admin"})
        self.env["res.users.apikeys"].with_user(self.editor)._generate(
            None, "to revoke", fields.Datetime.now() + timedelta(days=1))
        self.editor.api_key_ids.with_user(self.editor)._remove()
        revoke = self.events([("action", "=", "api_key.revoke")])
        self.assertEqual((revoke.res_name, revoke.uid), ("to revoke", self.editor.id))


@tagged("post_install", "-at_install")
class TestCaptureOverHttp(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)

    def setUp(self):
        super().setUp()
        self.patch(res_users_apikeys, "_last_use_written", {})
        self.start_id = last_event_id(self.env)

    def events(self, domain):
        self.env["audit.event"]._flush_buffer()
        return self.env["audit.event"].search([("id", ">", self.start_id), *domain], order="id")

    def test_password_login_success(self):
        self.url_open("/web/session/authenticate", data=json.dumps({
            "jsonrpc": "2.0", "params": {"db": self.env.cr.dbname, "login": "role.editor",
                                         "password": "role-editor-password"}}),
            headers={"Content-Type": "application/json", "User-Agent": "audit-test-agent"})
        login = self.events([("action", "=", "login"), ("login", "=", "role.editor")])
        self.assertEqual(len(login), 1)
        self.assertEqual((login.category, login.outcome, login.uid),
                         ("authentication", "success", self.editor.id))
        self.assertEqual(login.ip, "127.0.0.1")
        self.assertEqual(login.user_agent, "audit-test-agent")
        self.assertEqual(login.request_path, "/web/session/authenticate")
        self.assertEqual(json.loads(login.details), {"method": "password"})
        self.assertNotIn("role-editor-password", (login.details or "") + (login.changes or ""))

    def test_api_key_login_and_use(self):
        key = self.env["res.users.apikeys"].with_user(self.editor).with_context(
            security_key_scope="read")._generate(None, "BI", fields.Datetime.now() + timedelta(days=1))
        uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, "role.editor", key, {})
        self.assertEqual(uid, self.editor.id)
        login = self.events([("action", "=", "login"), ("login", "=", "role.editor")])
        self.assertEqual(json.loads(login.details), {"method": "apikey"})
        self.xmlrpc_object.execute_kw(self.env.cr.dbname, uid, key, "res.partner", "search", [[]])
        use = self.events([("action", "=", "api_key.use")])[-1:]
        self.assertEqual((use.category, use.uid, use.res_name), ("api_access", self.editor.id, "BI"))
        self.assertEqual(json.loads(use.details), {"scope": "read"})
        self.assertEqual((use.ip, use.request_path), ("127.0.0.1", "/xmlrpc/2/object"))
        self.assertNotIn(key, (use.details or "") + (use.res_name or ""))


@tagged("post_install", "-at_install")
class TestReadOnlyRequests(AuditCase):
    def test_denial_in_a_read_only_transaction_does_not_hang_the_server(self):
        """Under Odoo's test cursors a read/write cursor cannot nest in a
        read-only one, and trying leaks their lock: every later request hangs."""
        import threading
        with self.registry.cursor(readonly=True) as ro_cr:
            self.assertTrue(ro_cr.readonly)
            with contextlib.suppress(AccessError):
                self.env(cr=ro_cr)["res.partner"].with_user(self.viewer).create({"name": "x"})

        def other_request():
            with self.registry.cursor() as cr:
                cr.execute("SELECT 1")
        thread = threading.Thread(target=other_request, daemon=True)
        thread.start()
        thread.join(timeout=10)
        self.assertFalse(thread.is_alive(), "the test cursor lock leaked")


@tagged("post_install", "-at_install")
class TestEventsRide(TransactionCase):
    """Events go ahead of the transaction's next statement (outside the test
    mode of AuditCase, whose shared cursor does not carry them)."""

    def setUp(self):
        super().setUp()
        self.cr = self.env.cr
        self.start = last_event_id(self.env)

    def stored(self, **where):
        """The events in the table; checked after the statement under test,
        with nothing left to carry (this SELECT must not be the carrier)."""
        self.assertFalse(self.cr.precommit.data.get(BUFFER_KEY), "all sent")
        self.assertNotIn("execute", self.cr.__dict__, "the cursor has its own execute back")
        self.cr.execute("SELECT action, changes, details FROM audit_event WHERE id > %s"
                        " ORDER BY id", [self.start])
        return [row for row in self.cr.fetchall()
                if all(row[("action", "changes", "details").index(k)] == v
                       for k, v in where.items())]

    def buffer(self, action, count=1):
        self.env["audit.event"]._buffer([{
            "event_time": "2026-01-01 00:00:00", "category": "security_event", "action": action,
            "outcome": "success", "details": '{"rate": "100%", "x": "%(x)s %s"}'}] * count)

    def test_a_write_event_rides_on_its_update(self):
        """A write's event costs no statement of its own: it is sent with the
        UPDATE that flushes the write, so a savepoint rolled back after that
        flush takes both away (no event for a change that did not happen)."""
        self.env["audit.rule"].create({"model_id": self.env["ir.model"]._get_id("res.partner")})
        partner = self.env["res.partner"].create({"name": "Rider", "comment": "old"})
        self.cr.flush()
        self.start = last_event_id(self.env)
        partner.write({"comment": "100% new"})  # '%' in the event and the UPDATE's parameters
        self.assertEqual(len(self.cr.precommit.data[BUFFER_KEY]), 1, "not sent yet")
        count = self.cr.sql_log_count
        partner.flush_recordset()
        self.assertEqual(self.cr.sql_log_count - count, 1)
        sent = self.cr._obj.query
        self.assertTrue(sent.startswith(b"INSERT INTO audit_event"))
        self.assertIn(b'UPDATE "res_partner"', sent)
        self.assertEqual([json.loads(changes) for _a, changes, _d in self.stored()],
                         [{"comment": ["<p>old</p>", "<p>100% new</p>"]}])
        with contextlib.closing(self.cr.savepoint(flush=False)):  # closed = rolled back
            partner.write({"comment": "undone"})
            partner.flush_recordset()
            self.assertEqual(len(self.stored()), 2)
        self.env.invalidate_all(flush=False)
        self.assertEqual(partner.comment, "<p>100% new</p>")
        self.assertEqual(len(self.stored()), 1)

    def test_events_go_with_the_next_statement_that_may_carry_them(self):
        cr = self.cr
        self.buffer("test.carried")
        cr.execute("CREATE TEMPORARY TABLE audit_test_ddl (x int)")  # DDL carries nothing
        self.assertEqual(len(cr.precommit.data[BUFFER_KEY]), 1)
        cr.execute("SELECT 41 + 1")  # no parameters: the events' '%' stay single
        self.assertEqual(cr.fetchall(), [(42,)], "the statement's own result")
        details = '{"rate": "100%", "x": "%(x)s %s"}'
        self.assertEqual(self.stored(action="test.carried"), [("test.carried", None, details)])
        # named parameters after the events, and many events (one JSON parameter)
        self.buffer("test.many", 25)
        cr.execute("SELECT %(x)s::int + 1", {"x": 41})
        self.assertEqual(cr.fetchall(), [(42,)])
        self.assertEqual(self.stored(action="test.many"), [("test.many", None, details)] * 25)
        # as an immediate INSERT: kept by a savepoint taken after the event,
        # undone by the rollback of one taken before it
        self.buffer("test.before")
        with contextlib.closing(cr.savepoint(flush=False)):
            self.buffer("test.inside")
            cr.execute("SELECT 1")
            self.assertEqual(len(self.stored(action="test.inside")), 1)
            self.buffer("test.dropped")  # pending at ROLLBACK TO: dropped, not sent
        self.assertEqual(len(self.stored(action="test.before")), 1)
        self.assertEqual(self.stored(action="test.inside") + self.stored(action="test.dropped"), [])
        with contextlib.suppress(ZeroDivisionError), cr.savepoint():  # Odoo's flushing kind
            self.buffer("test.flushed.away")
            raise ZeroDivisionError
        self.assertEqual(self.stored(action="test.flushed.away"), [])
        # no statement after the event: the commit's flush inserts it
        self.buffer("test.last")
        cr.flush()
        self.assertEqual(len(self.stored(action="test.last")), 1)

    def test_events_in_an_aborted_savepoint_do_not_hide_its_error(self):
        cr = self.cr
        with self.assertRaises(psycopg2.errors.UndefinedTable), \
                mute_logger("odoo.sql_db"), cr.savepoint(flush=False):
            self.buffer("test.aborted")
            cr.execute("ALTER TABLE audit_no_such_table ADD COLUMN x int")  # not a carrier
        cr.execute("SELECT 1")  # the savepoint was rolled back: the transaction goes on
        self.assertEqual(self.stored(action="test.aborted"), [])

    def test_a_failed_statement_logs_itself_not_the_events(self):
        with self.assertLogs(level="ERROR") as logs, \
                self.assertRaises(psycopg2.errors.UndefinedColumn), \
                self.cr.savepoint(flush=False):
            self.buffer("test.secret.values")
            self.cr.execute("SELECT no_such_column FROM res_partner WHERE id = %s", [1])
        self.assertTrue(any("no_such_column" in line for line in logs.output))
        self.assertFalse([line for line in logs.output if "test.secret.values" in line])

    def test_events_cost_no_statement_of_their_own(self):
        """Capturing creations and changes adds no statement: the events go
        ahead of statements the transaction sends anyway."""
        cr, ICP = self.cr, self.env["ir.config_parameter"]
        rule = self.env["audit.rule"].search([("model", "=", "ir.config_parameter")])

        def statements(audited, run):
            rule.active = audited
            self.env["audit.rule"]._rules_by_model()  # the cache is reloaded once
            cr.flush()
            count = cr.sql_log_count
            for value in ("x", "y"):  # three creations, then three changes
                for i in range(3):
                    ICP.set_param(f"audit.cost.{run}.{i}", value)
            cr.flush()  # what commit does
            return cr.sql_log_count - count

        statements(False, "warm-up")  # the caches the first creations fill
        self.assertEqual(statements(True, "on"), statements(False, "off"))
        events = self.env["audit.event"].search([("id", ">", self.start),
                                                 ("model", "=", "ir.config_parameter")])
        self.assertEqual(events.mapped("action"), ["write"] * 3 + ["create"] * 3)  # id desc
        self.assertEqual(set(events.mapped("res_id")),
                         set(ICP.search([("key", "=like", "audit.cost.on.%")]).ids))
        self.assertEqual(json.loads(events[0].changes), {"value": ["x", "y"]})
