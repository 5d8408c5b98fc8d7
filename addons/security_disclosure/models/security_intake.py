import ipaddress
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
    def _bucket(self, ip):
        """An IPv6 visitor owns a whole /64 (one address each request would
        otherwise slip past the limit); an IPv4 address is its own bucket."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return ip
        if address.version == 6:
            if address.ipv4_mapped:
                return str(address.ipv4_mapped)
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        return str(address)

    @api.model
    def _allow(self, ip):
        """Record a submission from `ip`; False when the hourly limit of its
        bucket, or the hourly cap of all submissions, is spent."""
        params = self.env["ir.config_parameter"].sudo()
        limit = _int(params.get_param("security_disclosure.max_per_hour"), 5)
        cap = _int(params.get_param("security_disclosure.max_total_per_hour"), 100)
        since = fields.Datetime.now() - timedelta(hours=1)
        bucket = self._bucket(ip)
        # Serialise submissions across workers (the global cap counts them all).
        self.env.cr.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["security_intake"])
        if self.search_count([("submitted_at", ">=", since)]) >= cap:
            return False
        if self.search_count([("ip", "=", bucket), ("submitted_at", ">=", since)]) >= limit:
            return False
        self.create({"ip": bucket})
        return True

    @api.autovacuum
    def _gc_intake(self):
        self.search([("submitted_at", "<", fields.Datetime.now() - timedelta(days=2))]).unlink()


def _int(value, default):
    try:
        return int(value or default)
    except ValueError:
        return default
