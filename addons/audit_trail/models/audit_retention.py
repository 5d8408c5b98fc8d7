from odoo import fields, models

from .audit_event import CATEGORIES


class AuditRetention(models.Model):
    """How long each category of event is kept (0 = forever)."""
    _name = "audit.retention"
    _description = "Audit Retention Policy"
    _order = "category"

    category = fields.Selection(CATEGORIES, required=True, readonly=True)
    days = fields.Integer(required=True, help="Events older than this are removed. 0 keeps them.")

    _sql_constraints = [
        ("category_uniq", "unique(category)", "One retention period per category."),
        ("days_positive", "CHECK(days >= 0)", "The retention period cannot be negative."),
    ]
