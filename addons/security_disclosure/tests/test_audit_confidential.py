"""An Admin outside the Security team audits every model of the registry,
over XML-RPC, and then reads the whole audit trail: nothing of the embargoed
advisory (title, summary, CVSS vectors, patch, chatter) is in it; the team's
work is still recorded (which fields changed, by whom)."""
import json

from odoo.tests import HttpCase, tagged

from odoo.addons.security_roles.tests.common import password_logins_for_admins

from .common import CVSS31, CVSS40, SECRET, broadcast, disclosure_users, make_advisory, make_report

WITHHELD = "[Withheld]"


@tagged("post_install", "-at_install")
class TestAuditTrailKeepsTheEmbargo(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        password_logins_for_admins(cls.env)
        disclosure_users(cls)

    def admin_rpc(self, model, method, *args, **kw):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.out_admin.id,
                                             "out-admin-pass", model, method, list(args), kw)

    def test_admin_audits_every_model_and_reads_nothing_of_the_embargo(self):
        env = self.env
        # the Admin records everything it can name
        audited = set(env["audit.rule"].with_context(active_test=False).search([]).mapped("model"))
        models_ = sorted(name for name in env.registry
                         if not env[name]._abstract and not env[name]._transient
                         and env[name]._auto and name not in audited)
        self.assertIn("security.advisory", models_)
        self.assertIn("mail.message", models_)
        self.admin_rpc("audit.rule", "create", [
            {"model_id": env["ir.model"]._get_id(name)} for name in models_])
        env.registry.clear_cache()
        self.env.cr.execute("SELECT coalesce(max(id), 0) FROM audit_event")
        start = self.env.cr.fetchone()[0]

        # the team works on an embargoed advisory
        editor = env(user=self.team_editor)
        report = make_report(env, self.reporter.partner_id, title=f"Report {SECRET}",
                             description=f"Steps {SECRET}")
        advisory = make_advisory(editor, report)
        patch = env["ir.attachment"].with_user(self.team_editor).create({
            "name": "fix.patch", "raw": f"--- a\n+++ b\n{SECRET}\n".encode(),
            "res_model": "security.advisory", "res_id": advisory.id})
        advisory.with_user(self.team_editor).patch_attachment_ids = patch
        note = advisory.with_user(self.team_editor).message_post(
            body=f"Note {SECRET}", subtype_xmlid="mail.mt_note")
        advisory.with_user(self.team_editor).activity_schedule(
            "mail.mail_activity_data_todo", user_id=self.team_admin.id, note=f"Todo {SECRET}")
        advisory.with_user(self.team_editor).write({
            "summary": f"Better summary {SECRET}", "cvss40_vector": CVSS40.replace("VC:H", "VC:L")})
        advisory.with_user(self.team_editor).action_send_to_reporter()
        advisory._reporter_approve(self.reporter.partner_id)
        advisory.with_user(self.team_admin).action_approve()
        broadcast(advisory, self.team_admin)
        note.with_user(self.team_editor).unlink()
        # and marks a new recipient: who receives advisories is the team's secret
        self.customer.with_user(self.team_admin).write({"advisory_contract_end": "2099-12-31"})
        env.flush_all()
        self.env["audit.event"]._flush_buffer()

        # the Admin reads the whole trail since, over XML-RPC
        events = self.admin_rpc("audit.event", "search_read", [("id", ">", start)],
                                fields=["model", "action", "res_name", "changes", "details"])
        self.assertGreater(len(events), 20)
        text = json.dumps(events)
        for secret in (SECRET, CVSS31, CVSS40, "--- a", "Todo", "Stored XSS"):
            self.assertNotIn(secret, text, f"{secret} leaked into the audit trail")
        by_model = {}
        for event in events:
            by_model.setdefault(event["model"], []).append(event)
        # what the team did is still on record: which fields changed
        for model in ("security.advisory", "security.report", "mail.message", "ir.attachment",
                      "mail.activity", "security.advisory.receipt"):
            self.assertIn(model, by_model, model)
        writes = [json.loads(e["changes"]) for e in by_model["security.advisory"]
                  if e["action"] == "write" and e["changes"]]
        summary = next(c["summary"] for c in writes if "summary" in c)
        self.assertEqual(summary, [WITHHELD, WITHHELD])
        partner_changes = [json.loads(e["changes"]) for e in by_model.get("res.partner", [])
                           if e["changes"] and "advisory_contract_end" in e["changes"]]
        self.assertEqual(partner_changes[-1]["advisory_contract_end"][1], WITHHELD)
        self.assertIsNone(self.env["audit.event"]._verify())
