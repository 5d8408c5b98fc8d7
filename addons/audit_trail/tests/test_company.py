import json
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.security_roles.models import res_users_apikeys
from odoo.addons.security_roles.tests.common import role_users

from .common import AuditCase, last_event_id


def two_companies(cls):
    """Companies A and B, an Admin and a user in each, a partner of each."""
    env = cls.env
    cls.company_a = env["res.company"].create({"name": "Audit Company A"})
    cls.company_b = env["res.company"].create({"name": "Audit Company B"})
    for name, company in (("a", cls.company_a), ("b", cls.company_b)):
        in_company = {"company_id": company.id, "company_ids": [Command.set(company.ids)]}
        setattr(cls, f"admin_{name}", new_test_user(
            env, f"company.admin.{name}", "security_roles.group_role_admin",
            password=f"company-admin-{name}-password", **in_company))
        setattr(cls, f"user_{name}", new_test_user(
            env, f"company.user.{name}", "base.group_user", **in_company))
        setattr(cls, f"partner_{name}", env["res.partner"].create(
            {"name": f"Partner of {name}", "company_id": company.id}))


@tagged("post_install", "-at_install")
class TestEventCompanies(AuditCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        two_companies(cls)

    def test_events_carry_the_acting_and_the_record_company(self):
        self.user_a.with_user(self.admin_a).write({"login": "company.user.a.renamed"})
        self.user_b.with_user(self.admin_b).write({"login": "company.user.b.renamed"})
        # the owner, in both companies, acting in B on a record of A
        self.owner.company_ids |= self.company_a | self.company_b
        in_b = {"allowed_company_ids": [self.company_b.id, self.company_a.id]}
        self.user_a.with_user(self.owner).with_context(**in_b).write({"login": "company.a.owner"})
        # an event about a record named by the caller, and one about another user
        self.Event.with_user(self.admin_a).log("security_event", "company.partner",
                                               model="res.partner", res_id=self.partner_b.id)
        self.Event.log("authentication", "company.login", outcome="failure", user=self.user_b,
                       immediate=False)
        self.Event.log("security_event", "company.server", immediate=False)
        self.user_b.with_user(self.admin_b).unlink()
        by = {(e.action, e.res_id, e.uid): e for e in self.events()}
        companies = {key: (e.company_id, e.record_company_id) for key, e in by.items()}
        a, b, none = self.company_a, self.company_b, self.env["res.company"]
        self.assertEqual(companies[("write", self.user_a.id, self.admin_a.id)], (a, a))
        self.assertEqual(companies[("write", self.user_b.id, self.admin_b.id)], (b, b))
        self.assertEqual(companies[("write", self.user_a.id, self.owner.id)], (b, a))
        self.assertEqual(companies[("company.partner", self.partner_b.id, self.admin_a.id)], (a, b))
        login = next(e for e in by.values() if e.action == "company.login")
        self.assertEqual((login.company_id, login.record_company_id), (b, none))
        server = next(e for e in by.values() if e.action == "company.server")
        self.assertEqual((server.company_id, server.record_company_id), (none, none))
        self.assertEqual(companies[("unlink", self.user_b.id, self.admin_b.id)], (b, b))

    def test_a_failed_login_belongs_to_the_company_of_the_account_it_names(self):
        """Through the real login: an Admin of company A does not see who is
        being guessed at in company B; a login that names no account
        concerns the whole database."""
        from odoo.exceptions import AccessDenied
        env = {"interactive": False, "REMOTE_ADDR": "127.0.0.1"}
        for login in (self.user_b.login, "no.such.account@example.com"):
            try:
                self.registry["res.users"]._login(
                    self.env.cr.dbname, {"type": "password", "login": login,
                                         "password": "not-the-password"}, env)
            except AccessDenied:
                pass
            else:
                self.fail("a wrong password logged in")
        failures = self.events([("action", "=", "login"), ("outcome", "=", "failure")])
        named = failures.filtered(lambda e: e.login == self.user_b.login)
        unknown = failures - named
        self.assertEqual(len(named), 1)
        self.assertEqual(len(unknown), 1)
        self.assertEqual((named.model, named.res_id, named.record_company_id),
                         ("res.users", self.user_b.id, self.company_b))
        self.assertFalse(unknown.record_company_id or unknown.company_id)
        self.assertFalse(unknown.res_id)
        for admin, sees_named in ((self.admin_a, False), (self.admin_b, True)):
            with self.subTest(admin=admin.login):
                visible = self.Event.with_user(admin).search([("id", "in", failures.ids)])
                self.assertEqual(named in visible, sees_named)
                self.assertIn(unknown, visible)

    def test_repeated_failed_logins_alert_only_the_accounts_company(self):
        """Who is being guessed at in company B is for B's Admins and the
        Owner: the alert, its mail and the event recording it."""
        Users = self.env.registry["res.users"]
        self.env["ir.config_parameter"].sudo().set_param("audit_trail.failed_login_threshold", 3)
        self.env.flush_all()
        for _attempt in range(3):
            Users._audit_authentication(self.env.cr.dbname, "login", "failure",
                                        login=self.user_b.login)
        alert = self.env["audit.alert"].search([("code", "=", "failed_logins"),
                                                ("key", "=", self.user_b.login)])
        self.assertEqual(alert.company_id, self.company_b)
        told = self.env["mail.message"].search([("model", "=", "audit.alert"),
                                                ("res_id", "=", alert.id)]).partner_ids
        self.assertIn(self.admin_b.partner_id, told)
        self.assertNotIn(self.admin_a.partner_id, told)
        raised = self.events([("action", "=", "alert.raised")])
        self.assertEqual(raised.record_company_id, self.company_b)
        for admin, sees in ((self.admin_a, False), (self.admin_b, True), (self.owner, True)):
            with self.subTest(admin=admin.login):
                self.assertEqual(bool(self.env["audit.alert"].with_user(admin).search(
                    [("id", "=", alert.id)])), sees)
                self.assertEqual(bool(self.Event.with_user(admin).search(
                    [("id", "in", raised.ids)])), sees)
        # a login that names no account concerns every Admin
        for _attempt in range(3):
            Users._audit_authentication(self.env.cr.dbname, "login", "failure",
                                        login="nobody.at.all@example.com")
        unknown = self.env["audit.alert"].search([("code", "=", "failed_logins"),
                                                  ("company_id", "=", False)])
        self.assertTrue(unknown.with_user(self.admin_a).read(["name"]))

    def test_admins_read_only_their_companies_events(self):
        a, b = self.company_a.id, self.company_b.id
        for action, cid, record_cid in (("c.a", a, None), ("c.a.rec", None, a), ("c.aa", a, a),
                                        ("c.b", b, None), ("c.bb", b, b),
                                        ("c.a.on.b", a, b), ("c.none", None, None)):
            self.raw_event(action=action, cid=cid, record_cid=record_cid)
        mine = [("id", ">", self.start_id), ("action", "like", "c.")]
        expected = {  # an event belongs to its record's company, else to its user's
            self.admin_a: {"c.a", "c.a.rec", "c.aa", "c.none"},
            self.admin_b: {"c.b", "c.bb", "c.a.on.b", "c.none"},
            self.owner: {"c.a", "c.a.rec", "c.aa", "c.b", "c.bb", "c.a.on.b", "c.none"},
        }
        every = self.Event.search(mine)
        for who, actions in expected.items():
            with self.subTest(user=who.login):
                Event = self.Event.with_user(who)
                self.assertEqual(set(Event.search(mine).mapped("action")), actions)
                self.assertEqual(Event.search_count(mine), len(actions))
                groups = Event.read_group(mine, ["action"], ["action"])
                self.assertEqual({g["action"] for g in groups}, actions)
                for event in every:
                    if event.action in actions:
                        self.assertEqual(event.with_user(who).read(["action"])[0]["action"],
                                         event.action)
                    else:
                        with self.assertRaises(AccessError):
                            event.with_user(who).read(["action"])

    def test_companies_are_sealed_into_the_chain(self):
        self.raw_event(action="c.sealed", cid=self.company_a.id, record_cid=self.company_b.id)
        self.raw_event(action="c.plain")
        self.Event._seal()
        self.assertIsNone(self.Event._verify())
        # an event without companies keeps the canonical form it had before them
        self.env.cr.execute("""
            SELECT digest = encode(sha256(convert_to(json_build_array(sequence, event_time,
                   category, content_digest)::text, 'UTF8')), 'hex')
              FROM audit_event WHERE id > %s AND action = 'c.plain'""", [self.start_id])
        self.assertTrue(self.env.cr.fetchone()[0])
        # moving an event to another company in SQL breaks the chain
        event = self.events([("action", "=", "c.sealed")])
        self.env.cr.execute("UPDATE audit_event SET record_cid = %s WHERE id = %s",
                            [self.company_a.id, event.id])
        self.assertEqual(self.Event._verify(), {"sequence": event.sequence, "reason": "content"})


@tagged("post_install", "-at_install")
class TestSiemCompanies(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)
        two_companies(cls)
        cls.start_id = last_event_id(cls.env)
        Event = cls.env["audit.event"]
        for i in range(250):  # interleaved: every page holds some of B's
            Event.log("security_event", f"siem.a.{i}", model="res.partner",
                      res_id=cls.partner_a.id)
            if i % 2 == 0:
                Event.log("security_event", f"siem.b.{i}", model="res.partner",
                          res_id=cls.partner_b.id)
        Event._seal()
        expiry = fields.Datetime.now() + timedelta(days=1)
        Keys = cls.env["res.users.apikeys"].with_context(security_key_scope="read")
        cls.keys = {user: Keys.with_user(user)._generate(None, "SIEM", expiry)
                    for user in (cls.admin_a, cls.admin_b, cls.owner)}

    def setUp(self):
        super().setUp()
        self.patch(res_users_apikeys, "_last_use_written", {})

    def export(self, user, limit):
        """Every row the user's key pages through, from this test's first event."""
        self.env.cr.execute("SELECT min(sequence) - 1 FROM audit_event WHERE id > %s",
                            [self.start_id])
        cursor, rows = self.env.cr.fetchone()[0], []
        while True:
            response = self.url_open(f"/audit/events.jsonl?after={cursor}&limit={limit}",
                                     headers={"Authorization": f"Bearer {self.keys[user]}"})
            self.assertEqual(response.status_code, 200)
            page = [json.loads(line) for line in response.text.splitlines()]
            self.assertLessEqual(len(page), limit)
            if not page:
                self.assertEqual(int(response.headers["X-Audit-Cursor"]), cursor)
                return rows
            self.assertEqual(int(response.headers["X-Audit-Cursor"]), page[-1]["sequence"])
            rows += page
            cursor = page[-1]["sequence"]

    def test_each_admin_key_exports_its_companies_events_in_pages(self):
        a, b = self.company_a.id, self.company_b.id
        for user, own, other in ((self.admin_a, a, b), (self.admin_b, b, a)):
            with self.subTest(user=user.login):
                rows = self.export(user, 100)
                sequences = [row["sequence"] for row in rows]
                self.assertEqual(sequences, sorted(set(sequences)), "no duplicate, in order")
                self.assertGreater(len(rows), 100, "more than one page")
                for row in rows:
                    company = row["record_company_id"] or row["company_id"]
                    self.assertIn(company, (own, None), row["action"])
                mine = [row["action"] for row in rows if row["action"].startswith("siem.")]
                prefix = "siem.a." if own == a else "siem.b."
                wanted = [f"{prefix}{i}" for i in range(250) if prefix == "siem.a." or i % 2 == 0]
                self.assertEqual(mine, wanted, "all of its own, none of the other's")
                self.assertEqual({row["record_company_id"] for row in rows
                                  if row["action"].startswith("siem.")}, {own})

    def test_owner_key_exports_every_company(self):
        rows = self.export(self.owner, 100)
        actions = [row["action"] for row in rows if row["action"].startswith("siem.")]
        self.assertEqual(len(actions), 250 + 125)
        self.assertEqual(len(set(actions)), len(actions))
