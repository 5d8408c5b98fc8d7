from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from ..models.selfhost_backup_profile import CREDENTIAL_COLUMNS

from odoo.addons.security_roles.tests.common import (
    OWNER_PASSWORD,
    password_logins_for_admins,
    role_users,
)


SECRET, KEY_ID = "s3cr3t-value", "AKIDACCESSTEST"
# Every method of the model an RPC client can call (public, not @api.private),
# sorted: those that return record data (called by the test, as the Owner), and
# the others, each with why it cannot hand a stored value back.
READ_ROUTES = frozenset({
    "read", "search_read", "web_read", "web_search_read", "read_group", "web_read_group",
    "read_progress_bar", "export_data", "fields_get", "search", "search_count", "search_fetch",
    "name_search", "onchange", "copy_data", "copy", "default_get", "get_views", "get_view",
    "get_metadata", "fetch", "web_save", "search_panel_select_range",
    "search_panel_select_multi_range", "get_field_translations"})
NOT_READS = {
    "create": "returns ids", "write": "returns True", "unlink": "returns True",
    "name_create": "returns (id, name)", "load": "an import: returns ids and messages",
    "action_archive": "returns an action", "action_unarchive": "returns an action",
    "toggle_active": "returns True", "action_backup_now": "returns a notification",
    "action_view_runs": "returns the runs' action", "browse": "returns ids",
    "exists": "returns ids", "update": "writes the cache, returns None",
    "modified": "invalidates the cache, returns None", "pool": "not callable over RPC",
    "check_access": "returns None", "check_access_rights": "returns a boolean",
    "check_access_rule": "returns None", "check_field_access_rights": "returns field names",
    "has_access": "returns a boolean", "clear_caches": "returns None",
    "copy_translations": "copies translated fields (none is a credential)",
    "update_field_translations": "writes translations",
    "web_update_field_translations": "writes translations",
    "web_override_translations": "writes translations", "get_base_url": "returns a URL",
    "get_empty_list_help": "returns the help text", "get_external_id": "returns xml ids",
    "get_formview_action": "returns an action", "get_formview_id": "returns a view id",
    "get_import_templates": "returns templates", "get_property_definition": "no property field",
    "is_transient": "returns a boolean", "view_header_get": "returns a title",
    "mail_allowed_qweb_expressions": "returns expressions",
}


@tagged("post_install", "-at_install")
class TestCredentialAccess(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        password_logins_for_admins(cls.env)
        role_users(cls)
        cls.profile = cls.env["selfhost.backup.profile"].create({
            "name": "access test", "bucket": "b-access", "credentials_source": "stored",
            "new_access_key_id": KEY_ID, "new_secret_access_key": SECRET})

    def call(self, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/selfhost.backup.profile/{method}",
            {"model": "selfhost.backup.profile", "method": method, "args": args,
             "kwargs": kwargs or {}})

    def stored(self):
        return self.profile._stored_credentials()[self.profile.id]

    def attempt(self, method, args, kwargs=None):
        """Call `method` over JSON-RPC; its result, or the text of its error."""
        try:
            return self.call(method, args, kwargs)
        except JsonRpcException as exc:
            return f"error: {exc}"

    def test_owner_cannot_read_the_stored_credentials_by_any_rpc_route(self):
        """Not even the Owner, who set them: every method an RPC client can call is
        either called here (with every field, every grouping, a search on the
        columns' names) or has no record data to return."""
        Profile = type(self.env["selfhost.backup.profile"])
        public = {name for name in dir(Profile) if not name.startswith("_")
                  and callable(getattr(Profile, name, None))
                  and not any(getattr(getattr(cls, name, None), "_api_private", False)
                              for cls in Profile.mro())}
        self.assertEqual(public - READ_ROUTES - set(NOT_READS), set(),
                         "a new public method: is it a read route?")
        self.assertEqual(self.stored(), (KEY_ID, SECRET))
        self.authenticate("admin", OWNER_PASSWORD)
        ids = self.profile.ids
        fields_ = self.call("fields_get", [], {"attributes": ["type", "store", "string"]})
        for column in CREDENTIAL_COLUMNS:
            self.assertNotIn(column, fields_)
        names = sorted(fields_)
        spec = {name: {} for name in names}
        calls = [
            ("read", [ids], {}), ("read", [ids, names], {}),
            ("search_read", [[("id", "in", ids)]], {}),
            ("search_read", [[("id", "in", ids)], names], {}),
            ("web_read", [ids], {"specification": spec}),
            ("web_search_read", [[("id", "in", ids)]], {"specification": spec}),
            ("export_data", [ids, names], {}),
            ("copy_data", [ids], {}), ("get_metadata", [ids], {}),
            ("fetch", [ids, names], {}), ("default_get", [names], {}),
            ("onchange", [ids, {}, [], spec], {}), ("onchange", [[], {}, [], spec], {}),
            ("web_save", [ids, {"keep_count": 3}], {"specification": spec}),
            ("get_views", [[[False, "form"], [False, "list"], [False, "search"]]], {}),
            ("get_view", [False, "form"], {}),
            ("name_search", [SECRET], {}), ("name_search", [KEY_ID], {}),
            ("search_fetch", [[("id", "in", ids)], names], {}),
            ("read_progress_bar", [[], "credentials_source",
                                   {"field": "credentials_source", "colors": {}}], {}),
        ]
        for name in names + list(CREDENTIAL_COLUMNS):
            calls += [
                ("read", [ids, [name]], {}), ("export_data", [ids, [name]], {}),
                ("read_group", [[], [name], [name]], {}),
                ("web_read_group", [[], [name], [name]], {}),
                ("search_panel_select_range", [name], {}),
                ("search_panel_select_multi_range", [name], {}),
                ("get_field_translations", [ids, name], {}),
            ]
        with mute_logger("odoo.http", "odoo.osv.expression"):
            for method, args, kwargs in calls:
                result = repr(self.attempt(method, args, kwargs))
                self.assertNotIn(SECRET, result, f"{method}{args}")
                self.assertNotIn(KEY_ID, result, f"{method}{args}")
            # a search on them answers the same whether the guess is right or not
            searched = {"fields_get", "copy"} | {method for method, _a, _k in calls}
            for column in CREDENTIAL_COLUMNS + ("new_access_key_id", "new_secret_access_key"):
                for method, args in (("search", []), ("search_count", []),
                                     ("search_read", [["name"]]),
                                     ("read_group", [["name"], ["name"]])):
                    searched.add(method)
                    answers = {repr(self.attempt(method, [[(column, "=", guess)], *args]))
                               .replace(guess, "GUESS")  # the guess itself, echoed
                               for guess in (SECRET, KEY_ID, "a wrong guess")}
                    self.assertEqual(len(answers), 1, f"{method} on {column}: {answers}")
        self.assertEqual(searched, READ_ROUTES, "every read route is called")
        self.assertNotIn(SECRET, repr(fields_))
        # a copy holds no credentials (the Owner enters them again)
        copied = self.call("copy", [ids], {"default": {"name": "copied", "prefix": "copied"}})
        copy_id = copied[0] if isinstance(copied, list) else copied
        self.assertEqual(
            self.env["selfhost.backup.profile"].browse(copy_id)._stored_credentials()[copy_id],
            (None, None))
        self.assertEqual(self.stored(), (KEY_ID, SECRET), "the server still has them")

    def test_stored_secret_is_not_an_admins_either(self):
        self.assertEqual(self.stored(), (KEY_ID, SECRET))
        self.authenticate("role.admin", "role-admin-password")
        for field in ("secret_access_key", "access_key_id", "new_secret_access_key"):
            with self.assertRaises(JsonRpcException, msg=field), mute_logger("odoo.http"):
                self.call("read", [self.profile.ids, [field]])
        # a read of every field leaves the secrets out
        (values,) = self.call("read", [self.profile.ids])
        self.assertNotIn("secret_access_key", values)
        self.assertNotIn(SECRET, repr(values))
        self.assertTrue(values["stored_credentials_set"])
        (values,) = self.call("search_read", [[("id", "=", self.profile.id)]])
        self.assertNotIn(SECRET, repr(values))
        # nor can an Admin set them
        with self.assertRaises(JsonRpcException):
            self.call("write", [self.profile.ids, {"new_secret_access_key": "mine"}])
        with self.assertRaises(JsonRpcException), mute_logger("odoo.http"):
            self.call("write", [self.profile.ids, {"secret_access_key": "mine"}])
        self.assertEqual(self.stored(), (KEY_ID, SECRET))
        # the form view an Admin gets has no credential field at all
        arch = self.call("get_views", [[[False, "form"]]])["views"]["form"]["arch"]
        self.assertNotIn("secret_access_key", arch)

    def test_owner_sets_but_never_reads_back_the_secret(self):
        self.authenticate("admin", OWNER_PASSWORD)
        self.call("write", [self.profile.ids, {"new_secret_access_key": "rotated-secret"}])
        self.assertEqual(self.stored(), (KEY_ID, "rotated-secret"))
        # nor do the audit events of the change hold it
        Event = self.env["audit.event"]
        Event._flush_buffer()
        events = Event.search([("model", "=", self.profile._name),
                               ("res_id", "=", self.profile.id)])
        self.assertTrue(events.filtered(lambda e: "new_secret_access_key" in (e.changes or "")
                                        + (e.details or "")), "the change is recorded")
        self.assertNotIn("rotated-secret", repr(events.mapped(lambda e: (e.changes, e.details))))
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
