from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import RolesCase


@tagged("post_install", "-at_install")
class TestAccessReview(RolesCase):
    def test_review_columns(self):
        self.env["res.users.apikeys"].with_user(self.editor)._generate(
            None, "integration", fields.Datetime.now() + timedelta(days=1))
        row = self.editor.with_user(self.admin).read(
            ["security_role", "login_date", "totp_enabled", "security_api_key_count",
             "security_inactive_days"])[0]
        self.assertEqual(row["security_role"], "editor")
        self.assertFalse(row["totp_enabled"])
        self.assertEqual(row["security_api_key_count"], 1)

    def test_inactive_filter(self):
        self.env["ir.config_parameter"].set_param("security_roles.inactive_days", 30)
        sleeper = new_test_user(self.env, "sleeper", "security_roles.group_role_editor", password="long-enough-password")
        active = new_test_user(self.env, "awake", "security_roles.group_role_editor", password="long-enough-password")
        self.env["res.users.log"].with_user(sleeper).sudo().create({})
        self.env["res.users.log"].with_user(active).sudo().create({})
        self.env.flush_all()
        self.env.cr.execute("UPDATE res_users_log SET create_date = now() - interval '46 days'"
                            " WHERE create_uid = %s", [sleeper.id])
        self.env.invalidate_all()
        inactive = self.env["res.users"].search([("security_inactive", "=", True)])
        self.assertIn(sleeper, inactive)
        self.assertNotIn(active, inactive)
        self.assertGreaterEqual(sleeper.security_inactive_days, 45)
        self.env["ir.config_parameter"].set_param("security_roles.inactive_days", 60)
        self.assertNotIn(sleeper, self.env["res.users"].search([("security_inactive", "=", True)]))

    def test_archive_action(self):
        sleepers = new_test_user(self.env, "s1", "security_roles.group_role_editor", password="long-enough-password") | \
            new_test_user(self.env, "s2", "security_roles.group_role_viewer", password="long-enough-password")
        sleepers.with_user(self.admin).action_security_archive()
        self.assertFalse(any(sleepers.mapped("active")))
        with self.assertRaises(AccessError):  # the Owner is never archived
            (self.owner | self.viewer).with_user(self.admin).action_security_archive()
        with self.assertRaises(AccessError):  # archiving needs user management rights
            self.viewer.with_user(self.editor).action_security_archive()
        self.assertTrue(self.viewer.active)

    def test_quarterly_review_activity_for_owner_and_admins(self):
        Review = self.env["security.access.review"]
        Review.search([]).unlink()
        review = Review._cron_schedule_quarterly_review()
        self.assertEqual(len(review), 1)
        reviewers = self.env["res.users"].search([("security_role", "in", ["owner", "admin"])])
        self.assertIn(self.owner, reviewers)
        self.assertEqual(set(review.activity_ids.mapped("user_id").ids), set(reviewers.ids))
        self.assertFalse(Review._cron_schedule_quarterly_review())  # once per quarter
        review.with_user(self.admin).action_mark_reviewed()
        self.assertEqual(review.state, "done")
        self.assertFalse(review.activity_ids)
