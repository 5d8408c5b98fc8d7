from datetime import timedelta

from odoo import api, fields, models


class SecurityReportIntake(models.Model):
    """One row per submission of the public form: the per-IP flood limit is
    counted in the database, so it holds across workers and restarts."""
    _name = "security.report.intake"
    _description = "Vulnerability report submission (flood limit)"
    _log_access = False

    ip = fields.Char(required=True, index=True)
    submitted_at = fields.Datetime(required=True, index=True, default=fields.Datetime.now)

    @api.model
    def _allow(self, ip):
        """Record a submission from `ip`; False when the hourly limit is spent."""
        limit = int(self.env["ir.config_parameter"].sudo().get_param(
            "security_disclosure.max_per_hour", 5))
        since = fields.Datetime.now() - timedelta(hours=1)
        # Serialise submissions from one address across workers.
        self.env.cr.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["security_intake:" + ip])
        count = self.search_count([("ip", "=", ip), ("submitted_at", ">=", since)])
        if count >= limit:
            return False
        self.create({"ip": ip})
        return True

    @api.autovacuum
    def _gc_intake(self):
        self.search([("submitted_at", "<", fields.Datetime.now() - timedelta(days=2))]).unlink()
