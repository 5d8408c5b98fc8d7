from datetime import timedelta

from odoo import api, fields, models

from ..lib import intake

CHANNELS = [("web", "Web form"), ("email", "E-mail"), ("receipt", "Automatic receipt")]


class SecurityReportIntake(models.Model):
    """One row per new report (form or e-mail) and per automatic receipt: the
    flood limits of lib/intake.py are counted in the database, so they hold
    across workers and restarts, for both channels alike."""
    _name = "security.report.intake"
    _description = "Vulnerability report intake (flood limits)"
    _log_access = False

    channel = fields.Selection(CHANNELS, required=True, index=True)
    source = fields.Char(required=True, index=True,
                         help="The IP address or IPv6 /64 network of a form's visitor, the "
                         "sender of an e-mail, the address a receipt went to.")
    network = fields.Char(index=True, help="A form visitor's IPv4 /24 or IPv6 /48: the held "
                          "reports of one network are bounded, not those of all.")
    held = fields.Boolean(help="Past the channel's hourly cap: held for the team's review.")
    submitted_at = fields.Datetime(required=True, index=True, default=fields.Datetime.now)

    @api.model
    def _source(self, channel, source):
        """Whom a limit counts: a visitor's network, a lower-case address."""
        if channel == "web":
            return intake.network_of(source or "unknown")
        return intake.address_key(source) or "(no address)"

    @api.model
    def _admit(self, channel, source):
        """intake.ACCEPT, HOLD or REFUSE a new report from `source` on
        `channel` ("web" or "email"), and count it unless refused."""
        limits = intake.Limits(
            per_source=self._param("max_per_hour", intake.DEFAULT_LIMITS.per_source),
            per_channel=self._param("max_total_per_hour", intake.DEFAULT_LIMITS.per_channel),
            held=self._param("max_held_per_hour", intake.DEFAULT_LIMITS.held),
            per_network_held=self._param("max_held_per_network_per_hour",
                                         intake.DEFAULT_LIMITS.per_network_held))
        network = intake.wide_network_of(source or "unknown") if channel == "web" else None
        source = self._source(channel, source)
        last_hour = self._lock_last_hour(channel)
        counts = dict(self._read_group(last_hour, ["held"], ["__count"]))
        decision = intake.decide(
            limits, from_source=self.search_count(last_hour + [("source", "=", source)]),
            accepted=counts.get(False, 0), held=counts.get(True, 0),
            held_from_network=self.search_count(last_hour + [
                ("network", "=", network), ("held", "=", True)]) if network else None)
        if decision != intake.REFUSE:
            self.create({"channel": channel, "source": source, "network": network,
                         "held": decision == intake.HOLD})
        return decision

    @api.model
    def _admit_receipt(self, address):
        """Whether `address` may get one more automatic receipt this hour
        (counted if so), whichever channel the report came by."""
        address = self._source("receipt", address)
        limit = self._param("max_receipts_per_hour", intake.DEFAULT_RECEIPTS)
        if self.search_count(self._lock_last_hour("receipt") + [("source", "=", address)]) >= limit:
            return False
        self.create({"channel": "receipt", "source": address})
        return True

    def _lock_last_hour(self, channel):
        """The domain of the channel's last hour, once no other transaction
        counts in it: the caps count every worker's rows."""
        self.env.cr.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["security_intake"])
        return [("channel", "=", channel),
                ("submitted_at", ">=", fields.Datetime.now() - timedelta(hours=1))]

    @api.model
    def _param(self, key, default):
        # sudo: the limits are read for anonymous visitors and the mail gateway
        value = self.env["ir.config_parameter"].sudo().get_param(f"security_disclosure.{key}")
        try:
            return int(value or default)
        except ValueError:
            return default

    @api.autovacuum
    def _gc_intake(self):
        self.search([("submitted_at", "<", fields.Datetime.now() - timedelta(days=2))]).unlink()
