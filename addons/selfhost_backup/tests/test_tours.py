import base64
import secrets
from unittest.mock import patch

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import config

from odoo.addons.security_roles.tests.common import password_logins_for_admins

from .common import drop_database, pg_connect, s3_settings

TOUR_DB = "selfhost_backup_tour_restore"


@tagged("post_install", "-at_install")
class TestTours(HttpCase):
    """What an Admin (back up) and the Owner (verify, restore) click, in Chromium."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        password_logins_for_admins(cls.env)

    def test_admin_backs_up_verifies_and_restores(self):
        s3 = s3_settings(self)
        new_test_user(self.env, "tour.admin", "security_roles.group_role_admin",
                      password="tour-admin-password")
        profile = self.env["selfhost.backup.profile"].create({
            "name": "tour", "endpoint_url": s3["ENDPOINT"], "bucket": s3["BUCKET"],
            "prefix": "tour-" + secrets.token_hex(4), "addressing_style": "path",
            "credentials_source": "stored", "new_access_key_id": s3["ACCESS_KEY"],
            "new_secret_access_key": s3["SECRET_KEY"], "include_filestore": False})
        drop_database(TOUR_DB)
        self.addCleanup(drop_database, TOUR_DB)
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        with patch.dict(config.options, {"selfhost_backup_encryption_key": key}):
            url = f"/odoo/action-selfhost_backup.action_selfhost_backup_profile/{profile.id}"
            self.start_tour(url, "selfhost_backup_backup_now", login="tour.admin")
            self.assertFalse(profile.run_ids, "the button only asks the background job")
            self.assertTrue(profile.backup_requested)
            # what Odoo's cron worker does when the button triggers the job
            cron = self.env.ref("selfhost_backup.ir_cron_selfhost_backup_requested")
            cron.method_direct_trigger()
            # restoring from the web is the Owner's
            self.start_tour(url, "selfhost_backup_verify_restore", login="admin")
        run = profile.run_ids
        self.assertEqual(run.mapped("state"), ["done"])
        self.assertEqual(run.verify_state, "ok")
        self.assertEqual(run.trigger, "manual")
        conn = pg_connect(TOUR_DB)
        with conn.cursor() as cr:
            cr.execute("SELECT count(*) FROM res_users")
            self.assertGreater(cr.fetchone()[0], 0)
        conn.close()
