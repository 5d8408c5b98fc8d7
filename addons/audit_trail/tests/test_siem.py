import json
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.security_roles.models import res_users_apikeys
from odoo.addons.security_roles.tests.common import role_users


@tagged("post_install", "-at_install")
class TestSiemExport(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)
        Event = cls.env["audit.event"]
        for i in range(7):
            Event.log("security_event", f"siem.{i}")
        Event._seal()
        expiry = fields.Datetime.now() + timedelta(days=1)
        Keys = cls.env["res.users.apikeys"].with_context(security_key_scope="read")
        cls.admin_key = Keys.with_user(cls.admin)._generate(None, "SIEM", expiry)
        cls.editor_key = Keys.with_user(cls.editor)._generate(None, "curious", expiry)

    def setUp(self):
        super().setUp()
        self.patch(res_users_apikeys, "_last_use_written", {})

    def get(self, key, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.url_open(f"/audit/events.jsonl?{query}", headers=headers)

    def test_pages_by_cursor_with_a_read_only_key(self):
        self.env.cr.execute("SELECT sequence FROM audit_event WHERE action LIKE 'siem.%%'"
                            " ORDER BY sequence")
        first = self.env.cr.fetchone()[0]
        seen, cursor = [], first - 1
        while True:
            response = self.get(self.admin_key, after=cursor, limit=3)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["Content-Type"], "application/x-ndjson; charset=utf-8")
            rows = [json.loads(line) for line in response.text.splitlines()]
            if not rows:
                self.assertEqual(int(response.headers["X-Audit-Cursor"]), cursor)
                break
            self.assertLessEqual(len(rows), 3)
            self.assertEqual(int(response.headers["X-Audit-Cursor"]), rows[-1]["sequence"])
            seen += rows
            cursor = rows[-1]["sequence"]
        siem = [r for r in seen if (r["action"] or "").startswith("siem.")]
        self.assertEqual([r["action"] for r in siem], [f"siem.{i}" for i in range(7)])
        sequences = [r["sequence"] for r in seen]
        self.assertEqual(sequences, list(range(first, first + len(seen))), "no gap, no overlap")
        self.assertEqual(set(siem[0]), {"sequence", "time", "category", "action", "outcome",
                                        "user_id", "login", "ip", "user_agent", "model", "res_id",
                                        "res_name", "changes", "details", "request_path",
                                        "company_id", "record_company_id", "hash", "prev_hash",
                                        "redacted", "content_digest"})

    def test_refuses_callers_without_rights(self):
        self.assertEqual(self.get(self.editor_key).status_code, 403)
        self.assertEqual(self.get(None).status_code, 401)
        self.assertEqual(self.get("not-a-key").status_code, 401)
        self.assertEqual(self.get(self.admin_key, after="x").status_code, 400)
