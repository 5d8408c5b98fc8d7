from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged

from .common import disclosure_users, make_report


@tagged("post_install", "-at_install")
class TestReportSla(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        disclosure_users(cls)
        # Mon-Fri 8-12 and 13-17, in UTC so the expected dates read plainly.
        cls.calendar = cls.env["resource.calendar"].create({
            "name": "Security team hours", "tz": "UTC", "hours_per_day": 8.0,
            "attendance_ids": [(0, 0, {"name": f"{day} {part}", "dayofweek": str(day),
                                       "hour_from": start, "hour_to": end, "day_period": part})
                               for day in range(5)
                               for part, start, end in (("morning", 8, 12), ("afternoon", 13, 17))],
        })
        cls.env.company.resource_calendar_id = cls.calendar

    def _report(self, received):
        return make_report(self.env, self.reporter.partner_id, received_date=received)

    def test_deadlines_across_a_weekend(self):
        # Friday 2026-11-20 10:00: 6 working hours left on Friday, then Mon-Thu
        # (32 h) and 2 h on the next Friday: 40 h = 5 business days.
        report = self._report(datetime(2026, 11, 20, 10, 0))
        self.assertEqual(report.ack_deadline, datetime(2026, 11, 22, 10, 0),
                         "acknowledgement: 48 calendar hours")
        self.assertEqual(report.triage_deadline, datetime(2026, 11, 27, 10, 0))
        # Received on a Saturday: the clock starts on Monday morning.
        report = self._report(datetime(2026, 11, 21, 15, 0))
        self.assertEqual(report.triage_deadline, datetime(2026, 11, 27, 17, 0))

    def test_deadline_on_an_uneven_calendar(self):
        # Mon-Fri 8-12 and 13-17, Saturday 8-12: an average of 7.33 hours a
        # day would end the triage on Friday afternoon; 5 working days after
        # Monday 10:00 is Saturday 10:00.
        calendar = self.calendar.copy({"name": "Six days", "hours_per_day": 44 / 6})
        calendar.attendance_ids = [(0, 0, {"name": "Sat", "dayofweek": "5", "hour_from": 8,
                                           "hour_to": 12, "day_period": "morning"})]
        self.env.company.resource_calendar_id = calendar
        report = self._report(datetime(2026, 11, 23, 10, 0))
        self.assertEqual(report.triage_deadline, datetime(2026, 11, 28, 10, 0))
        # Received Friday 15:00 (6 h into the day): Saturday has 4 h, so the
        # 5th working day after it, Thursday, at the same point: 15:00.
        report = self._report(datetime(2026, 11, 27, 15, 0))
        self.assertEqual(report.triage_deadline, datetime(2026, 12, 3, 15, 0))

    def test_deadline_skips_public_holiday(self):
        self.env["resource.calendar.leaves"].create({
            "name": "Public holiday", "calendar_id": self.calendar.id, "resource_id": False,
            "date_from": datetime(2026, 11, 23, 0, 0), "date_to": datetime(2026, 11, 23, 23, 59, 59),
        })
        report = self._report(datetime(2026, 11, 20, 10, 0))
        # Monday 23 is off: one more business day, Monday 30 at 10:00.
        self.assertEqual(report.triage_deadline, datetime(2026, 11, 30, 10, 0))

    def test_breach_flags_and_overdue_alert(self):
        report = self._report(datetime(2026, 11, 20, 10, 0))
        on_time = self._report(datetime(2026, 11, 20, 11, 0))
        with freeze_time("2026-11-21 09:00:00"):
            self.env["security.report"]._cron_check_sla()
        self.assertFalse(report.ack_breached)
        with freeze_time("2026-11-22 09:00:00"):
            on_time.with_user(self.team_editor).action_acknowledge()
        with freeze_time("2026-11-22 11:00:00"):
            self.env["security.report"]._cron_check_sla()
        self.assertTrue(report.ack_breached)
        self.assertTrue(report.sla_breached)
        self.assertFalse(report.triage_breached)
        self.assertFalse(on_time.ack_breached)
        self.assertEqual(report.sla_alerted, "ack")
        activities = report.activity_ids.filtered(lambda a: "overdue" in (a.summary or ""))
        self.assertTrue(activities, "the team is told")
        self.assertIn(self.team_editor, activities.user_id)
        if "audit.alert" in self.env:
            self.assertTrue(self.env["audit.alert"].sudo().search(
                [("code", "=", "security_report_ack_overdue"), ("key", "=", f"{report.name}:ack")]))
        # Alerted once per deadline
        with freeze_time("2026-11-22 12:00:00"):
            self.env["security.report"]._cron_check_sla()
        self.assertEqual(len(report.activity_ids.filtered(lambda a: "overdue" in (a.summary or ""))),
                         len(activities))
        with freeze_time("2026-11-27 10:30:00"):
            self.env["security.report"]._cron_check_sla()
        self.assertTrue(report.triage_breached)
        self.assertEqual(report.sla_alerted, "ack,triage")
        self.assertFalse(on_time.triage_breached)

    def test_triage_outcomes(self):
        original = self._report(datetime(2026, 11, 20, 10, 0))
        dup = self._report(datetime(2026, 11, 20, 11, 0))
        oos = self._report(datetime(2026, 11, 20, 12, 0))
        editor = self.env(user=self.team_editor)
        with self.assertRaisesRegex(UserError, "duplicates"):
            dup.with_env(editor).action_triage("duplicate")
        dup.with_env(editor).action_triage("duplicate", duplicate_of=original)
        self.assertEqual((dup.state, dup.duplicate_of_id), ("closed", original))
        self.assertIn(original.name, dup.message_ids[0].body)
        scope = self.env.ref("security_disclosure.scope_self_xss")
        oos.with_env(editor).action_triage("out_of_scope", scope_class=scope)
        self.assertEqual(oos.state, "closed")
        self.assertIn("self-XSS", oos.message_ids[0].body, "the class's templated reply")
        original.with_env(editor).action_acknowledge()
        original.with_env(editor).action_triage("valid")
        original.with_env(editor).action_start_remediation()
        original.with_env(editor).action_resolve()
        original.with_env(editor).action_close()
        self.assertEqual(original.state, "closed")
        with self.assertRaises(AccessError):
            self._report(datetime(2026, 11, 20, 10, 0)).with_user(self.out_admin).action_acknowledge()

    def test_out_of_scope_classes_from_both_policies(self):
        names = self.env["security.report.scope"].search([]).mapped("name")
        for expected in ("Self-XSS", "Missing security headers", "Staging or sandbox environment",
                         "Brute force / denial of service", "Open redirectors",
                         "XSS in unsupported browsers", "Default access-control configuration"):
            self.assertIn(expected, names)
