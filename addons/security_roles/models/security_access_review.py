from datetime import timedelta

from odoo import api, fields, models


class SecurityAccessReview(models.Model):
    """A quarterly access review: who has which role, who has not logged in,
    who has 2FA and API keys. Each quarter the Owner and Admins get a to-do."""
    _name = "security.access.review"
    _description = "Access Review"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"

    name = fields.Char(required=True, readonly=True)
    date_start = fields.Date(string="Quarter Start", required=True, readonly=True)
    state = fields.Selection(
        [("open", "To Review"), ("done", "Reviewed")], default="open", required=True,
        tracking=True, readonly=True)
    reviewed_by_id = fields.Many2one("res.users", readonly=True, tracking=True)
    reviewed_on = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("date_start_uniq", "unique(date_start)", "There is already an access review for this quarter."),
    ]

    @api.model
    def _quarter_start(self, day):
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)

    @api.model
    def _cron_schedule_quarterly_review(self):
        """Idempotent: creates this quarter's review once, with a to-do for the
        Owner and each active Admin."""
        today = fields.Date.context_today(self)
        start = self._quarter_start(today)
        if self.search_count([("date_start", "=", start)]):
            return self.browse()
        quarter = (start.month - 1) // 3 + 1
        review = self.create({"name": self.env._("Access review %(year)s-Q%(q)s", year=start.year, q=quarter),
                              "date_start": start})
        reviewers = self.env["res.users"].search([("security_role", "in", ["owner", "admin"])])
        for user in reviewers:
            review.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=today + timedelta(days=14),
                summary=self.env._("Quarterly access review"),
                note=self.env._("Check every user's role, last login, two-factor status and API keys; "
                       "archive the accounts nobody uses any more."),
                user_id=user.id)
        return review

    def action_open_users(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "security_roles.action_security_access_review_users")

    def action_mark_reviewed(self):
        for review in self:
            review.write({"state": "done", "reviewed_by_id": self.env.uid,
                          "reviewed_on": fields.Datetime.now()})
            review.activity_feedback(["mail.mail_activity_data_todo"],
                                     feedback=self.env._("Reviewed by %s", self.env.user.name))
        return True
