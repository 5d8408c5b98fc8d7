from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from ..lib import proofs
from .audit_event import CATEGORIES, POLICY_ACTION

# The security guide's retention periods: the floor nobody goes below, unless
# the server's administrator lowers it in odoo.conf (audit_retention_floor_days).
SEED_DAYS = proofs.SEED_FLOOR_DAYS


def retention_floor(category):
    """The shortest retention of `category` in days: the seed default, or the
    lower `audit_retention_floor_days` of odoo.conf."""
    return proofs.floors(tools.config.get("audit_retention_floor_days")).get(category, 365)


class AuditRetention(models.Model):
    """How long each category of event is kept (0 = forever). Admins may keep
    events longer; only the Owner shortens a period, and never below the floor."""
    _name = "audit.retention"
    _description = "Audit Retention Policy"
    _order = "category"
    _security_owner_fields = frozenset({"days", "category"})
    _security_owner_create = True
    _security_owner_unlink = True

    category = fields.Selection(CATEGORIES, required=True, readonly=True)
    days = fields.Integer(required=True, help="Events older than this are removed. 0 keeps them.")
    floor_days = fields.Integer(string="Minimum", compute="_compute_floor_days",
                                help="No period goes below this (the security guide's default, "
                                "or audit_retention_floor_days in odoo.conf).")

    _sql_constraints = [
        ("category_uniq", "unique(category)", "One retention period per category."),
        ("days_positive", "CHECK(days >= 0)", "The retention period cannot be negative."),
    ]

    def _compute_floor_days(self):
        for policy in self:
            policy.floor_days = retention_floor(policy.category)

    @api.constrains("days", "category")
    def _check_floor(self):
        for policy in self:
            floor = retention_floor(policy.category)
            if policy.days and policy.days < floor:
                raise ValidationError(self.env._(
                    "Events of category %(category)s are kept at least %(floor)s days "
                    "(0 keeps them forever).",
                    category=dict(CATEGORIES)[policy.category], floor=floor))

    @api.model_create_multi
    def create(self, vals_list):
        policies = super().create(vals_list)
        policies._record_policy()
        return policies

    def write(self, vals):
        result = super().write(vals)
        if "days" in vals or "category" in vals:
            self._record_policy()
        return result

    def _record_policy(self):
        """Each period set in Odoo is chained as a signed record: retention
        applies it, and verification measures redactions against it, whatever
        the table later says (a period lowered in SQL)."""
        Event = self.env["audit.event"].sudo()  # sudo: the system records the policy
        for policy in self:
            Event.log("security_event", POLICY_ACTION, immediate=False,
                      details=Event._signed_record({"category": policy.category,
                                                    "days": policy.days}))

    def _security_owner_change_is_safe(self, fname, old, new):
        # keeping events longer (0: forever) weakens nothing
        return fname == "days" and (new == 0 or (old != 0 and new >= old))
