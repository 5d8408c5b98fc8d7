from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from odoo.addons.security_roles.tests.common import (
    OWNER_PASSWORD,
    password_logins_for_admins,
    role_users,
)


@tagged("post_install", "-at_install")
class TestCredentialAccess(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        password_logins_for_admins(cls.env)
        role_users(cls)
        cls.profile = cls.env["selfhost.backup.profile"].create({
            "name": "access test", "bucket": "b-access", "credentials_source": "stored",
            "new_access_key_id": "AKIDACCESSTEST", "new_secret_access_key": "s3cr3t-value"})

    def call(self, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/selfhost.backup.profile/{method}",
            {"model": "selfhost.backup.profile", "method": method, "args": args,
             "kwargs": kwargs or {}})

    def test_stored_secret_is_owner_only_over_rpc(self):
        self.assertEqual(self.profile.sudo().secret_access_key, "s3cr3t-value")
        self.authenticate("role.admin", "role-admin-password")
        for field in ("secret_access_key", "access_key_id", "new_secret_access_key"):
            with self.assertRaises(JsonRpcException, msg=field):
                self.call("read", [self.profile.ids, [field]])
        # a read of every field leaves the secrets out
        (values,) = self.call("read", [self.profile.ids])
        self.assertNotIn("secret_access_key", values)
        self.assertNotIn("s3cr3t-value", repr(values))
        self.assertTrue(values["stored_credentials_set"])
        (values,) = self.call("search_read", [[("id", "=", self.profile.id)]])
        self.assertNotIn("s3cr3t-value", repr(values))
        # nor can an Admin set them
        with self.assertRaises(JsonRpcException):
            self.call("write", [self.profile.ids, {"new_secret_access_key": "mine"}])
        with self.assertRaises(JsonRpcException):
            self.call("write", [self.profile.ids, {"secret_access_key": "mine"}])
        self.assertEqual(self.profile.sudo().secret_access_key, "s3cr3t-value")
        # the form view an Admin gets has no credential field at all
        arch = self.call("get_views", [[[False, "form"]]])["views"]["form"]["arch"]
        self.assertNotIn("secret_access_key", arch)

    def test_owner_sets_but_never_reads_back_the_secret(self):
        self.authenticate("admin", OWNER_PASSWORD)
        self.call("write", [self.profile.ids, {"new_secret_access_key": "rotated-secret"}])
        self.assertEqual(self.profile.sudo().secret_access_key, "rotated-secret")
        (values,) = self.call("web_read", [self.profile.ids], {"specification": {
            "new_secret_access_key": {}, "new_access_key_id": {}, "stored_credentials_set": {}}})
        self.assertFalse(values["new_secret_access_key"])
        self.assertFalse(values["new_access_key_id"])
        self.assertTrue(values["stored_credentials_set"])
        arch = self.call("get_views", [[[False, "form"]]])["views"]["form"]["arch"]
        self.assertIn("new_secret_access_key", arch)
        self.assertNotIn('name="secret_access_key"', arch)

    def test_editor_and_viewer_see_no_profile_or_run(self):
        for user in (self.editor, self.viewer):
            Profile = self.env["selfhost.backup.profile"].with_user(user)
            with self.assertRaises(AccessError):
                Profile.search([])
            with self.assertRaises(AccessError):
                self.env["selfhost.backup.run"].with_user(user).search([])
            with self.assertRaises(UserError):
                self.profile.with_user(user).action_backup_now()

    def test_admin_cannot_move_the_profile_or_drop_encryption_over_rpc(self):
        self.authenticate("role.admin", "role-admin-password")
        for vals in ({"endpoint_url": "http://127.0.0.1:9"}, {"encrypt": False},
                     {"bucket": "attacker"}, {"credentials_source": "config"}):
            with self.assertRaises(JsonRpcException, msg=str(vals)):
                self.call("write", [self.profile.ids, vals])
        with self.assertRaises(JsonRpcException):
            self.call("create", [{"name": "mine", "bucket": "attacker"}])
        # keeping more backups loses nothing: an Admin may
        self.call("write", [self.profile.ids, {"keep_count": 9}])
        self.assertEqual(self.profile.keep_count, 9)
        self.assertFalse(self.profile.endpoint_url)
        self.assertTrue(self.profile.encrypt)
        (values,) = self.call("read", [self.profile.ids, ["is_owner"]])
        self.assertFalse(values["is_owner"], "the form shows these fields read-only")
