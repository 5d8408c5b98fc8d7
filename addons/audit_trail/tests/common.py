from unittest.mock import patch

from odoo.tests.common import TransactionCase

from odoo.addons.security_roles.tests.common import role_users

# the tests' checkpoint signing key (AUDIT_SIGNING_KEY)
SIGNING_SEED = "GQ6MY0mTuJc1Jhx9Uk4N3m8cFHI1dTybVK0uHS3w9pY="


def signing_key():
    """A patch: checkpoints are signed with SIGNING_SEED while it is on."""
    return patch.dict("os.environ", {"AUDIT_SIGNING_KEY": SIGNING_SEED})


def last_event_id(env):
    """Tests look only at the events they cause: denials in other modules'
    tests commit on their own connection (as they must in production)."""
    env["audit.event"]._flush_buffer()
    env.cr.execute("SELECT coalesce(max(id), 0) FROM audit_event")
    return env.cr.fetchone()[0]


class AuditCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # own-cursor events (failures, denials) share the test transaction,
        # as in HttpCase, instead of committing on a second connection
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        role_users(cls)
        cls.Event = cls.env["audit.event"]

    def setUp(self):
        super().setUp()
        self.start_id = last_event_id(self.env)

    def events(self, domain=()):
        self.Event._flush_buffer()
        return self.Event.search([("id", ">", self.start_id), *domain], order="id")

    def raw_event(self, **values):
        """Insert an event directly (as the log API does)."""
        row = {"event_time": "2026-01-01 00:00:00", "category": "security_event",
               "action": "test", "outcome": "success", **values}
        self.Event._insert(self.env.cr, [row])
