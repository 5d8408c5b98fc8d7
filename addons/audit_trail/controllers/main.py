import json

from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import request

MAX_PAGE = 10000


class AuditController(http.Controller):
    @http.route("/audit/events.jsonl", type="http", auth="bearer", methods=["GET"])
    def events_jsonl(self, after=0, limit=1000, **_kw):
        """SIEM export: sealed events after the cursor `after` (a sequence
        number), oldest first, as JSON Lines. The next cursor is in the
        X-Audit-Cursor header. Works with a read-only API key."""
        try:
            after, limit = int(after), min(max(int(limit), 1), MAX_PAGE)
        except ValueError:
            return request.make_json_response({"error": "after and limit must be integers"},
                                              status=400)
        Event = request.env["audit.event"]
        try:
            Event.check_access("read")
        except AccessError:
            raise Forbidden("This user may not read the audit trail.") from None
        events = Event.search([("sequence", ">", after)], order="sequence", limit=limit)
        body = "".join(json.dumps(event._export_row(), sort_keys=True) + "\n" for event in events)
        cursor = events[-1:].sequence or after
        return request.make_response(body, headers=[
            ("Content-Type", "application/x-ndjson; charset=utf-8"),
            ("X-Audit-Cursor", str(cursor)),
            ("Cache-Control", "no-store"),
        ])

    @http.route("/audit/checkpoints.jsonl", type="http", auth="user", methods=["GET"])
    def checkpoints_jsonl(self, **_kw):
        try:
            lines = request.env["audit.checkpoint"]._export_lines()
        except AccessError:
            raise Forbidden() from None
        return request.make_response("\n".join(lines) + "\n", headers=[
            ("Content-Type", "application/x-ndjson; charset=utf-8"),
            ("Content-Disposition", 'attachment; filename="audit-checkpoints.jsonl"'),
            ("Cache-Control", "no-store"),
        ])
