import json
import xmlrpc.client
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.base.controllers.rpc import (
    RPC_FAULT_CODE_ACCESS_DENIED,
    RPC_FAULT_CODE_ACCESS_ERROR,
)

from ..models import res_users_apikeys
from .common import role_users


@tagged("post_install", "-at_install")
class TestApiKeyScopes(HttpCase):
    """A read-scoped key reads over XML-RPC and JSON-RPC; every write path fails
    with AccessError. A full key, on the same calls, writes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        role_users(cls)
        Keys = cls.env["res.users.apikeys"].with_user(cls.editor)
        expiry = fields.Datetime.now() + timedelta(days=1)
        cls.read_key = Keys.with_context(security_key_scope="read")._generate(None, "BI tool", expiry)
        cls.full_key = Keys.with_context(security_key_scope="full")._generate(None, "sync", expiry)
        cls.partner = cls.env["res.partner"].create({"name": "Scoped partner"})

    def setUp(self):
        super().setUp()
        # "last use" is throttled in memory; each test starts with a clean slate
        self.patch(res_users_apikeys, "_last_use_written", {})

    def xmlrpc(self, key, model, method, *args, **kw):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.editor.id, key,
                                             model, method, list(args), kw)

    def jsonrpc(self, key, model, method, *args, **kw):
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": [self.env.cr.dbname, self.editor.id, key, model, method, list(args), kw]}}
        response = self.url_open("/jsonrpc", data=json.dumps(payload),
                                 headers={"Content-Type": "application/json"})
        return response.json()

    def write_paths(self):
        p = self.partner.id
        return {
            "create": ("res.partner", "create", [{"name": "via key"}]),
            "write": ("res.partner", "write", [p], {"name": "changed by key"}),
            "unlink": ("res.partner", "unlink", [p]),
            "copy": ("res.partner", "copy", [p]),
            "name_create": ("res.partner", "name_create", "Created by name"),
            "web_save": ("res.partner", "web_save", [p], {"name": "web saved"}, {}),
            "archive button": ("res.partner", "action_archive", [p]),
            "message_post": ("res.partner", "message_post", [p]),
            "sudo-writing method": ("res.users.apikeys.description", "create", {"name": "k"}),
        }

    def test_read_key_reads(self):
        rows = self.xmlrpc(self.read_key, "res.partner", "search_read",
                           [("id", "=", self.partner.id)], fields=["name"])
        self.assertEqual(rows[0]["name"], "Scoped partner")
        self.assertTrue(self.xmlrpc(self.read_key, "res.partner", "read_group", [],
                                    ["id:count"], []))
        self.assertTrue(self.xmlrpc(self.read_key, "res.partner", "fields_get", attributes=["type"]))
        self.assertTrue(self.xmlrpc(self.read_key, "res.partner", "name_search", "Scoped"))
        result = self.jsonrpc(self.read_key, "res.partner", "read", [self.partner.id], ["name"])
        self.assertEqual(result["result"][0]["name"], "Scoped partner")

    def test_read_key_refused_on_every_write_path_xmlrpc(self):
        for path, (model, method, *args) in self.write_paths().items():
            with self.subTest(path=path):
                with self.assertRaises(xmlrpc.client.Fault) as caught:
                    self.xmlrpc(self.read_key, model, method, *args)
                self.assertEqual(caught.exception.faultCode, RPC_FAULT_CODE_ACCESS_ERROR)
                self.assertIn("read-only", caught.exception.faultString)
        self.partner.invalidate_recordset()
        self.assertTrue(self.partner.exists())
        self.assertEqual(self.partner.name, "Scoped partner")
        self.assertTrue(self.partner.active)

    def test_read_key_refused_on_every_write_path_jsonrpc(self):
        for path, (model, method, *args) in self.write_paths().items():
            with self.subTest(path=path):
                error = self.jsonrpc(self.read_key, model, method, *args).get("error")
                self.assertTrue(error)
                self.assertEqual(error["data"]["name"], "odoo.exceptions.AccessError")
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.name, "Scoped partner")

    def test_read_key_import_creates_nothing(self):
        result = self.xmlrpc(self.read_key, "res.partner", "load", ["name"], [["imported"]])
        self.assertFalse(result["ids"])
        self.assertFalse(self.env["res.partner"].search([("name", "=", "imported")]))

    def test_full_key_writes(self):
        self.xmlrpc(self.full_key, "res.partner", "write", [self.partner.id], {"name": "full"})
        new_id = self.xmlrpc(self.full_key, "res.partner", "create", [{"name": "full create"}])
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.name, "full")
        self.assertTrue(self.env["res.partner"].browse(new_id).exists())
        result = self.jsonrpc(self.full_key, "res.partner", "write", [self.partner.id],
                              {"name": "full json"})
        self.assertTrue(result["result"])

    def test_password_rpc_unaffected_after_read_key(self):
        self.xmlrpc(self.read_key, "res.partner", "search", [])
        uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, "role.editor",
                                              "role-editor-password", {})
        self.assertEqual(uid, self.editor.id)
        self.assertTrue(self.xmlrpc("role-editor-password", "res.partner", "write",
                                    [self.partner.id], {"name": "by password"}))

    def test_scope_and_last_use_shown(self):
        keys = self.editor.api_key_ids
        self.assertEqual(sorted(keys.mapped("security_scope")), ["full", "read"])
        self.assertFalse(any(keys.mapped("security_last_use")))
        self.xmlrpc(self.read_key, "res.partner", "search", [])
        keys.invalidate_recordset()
        used = keys.filtered("security_last_use")
        self.assertEqual(used.security_scope, "read")
        self.assertTrue(used.expiration_date)

    def test_revoked_key_stops_at_once(self):
        self.xmlrpc(self.read_key, "res.partner", "search", [])
        self.editor.api_key_ids.filtered(lambda k: k.security_scope == "read")._remove()
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.xmlrpc(self.read_key, "res.partner", "search", [])
        self.assertEqual(caught.exception.faultCode, RPC_FAULT_CODE_ACCESS_DENIED)
