from datetime import timedelta

from odoo import fields

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..roles import VIEWER_PERSONAL_MODELS
from .common import RolesCase


@tagged("post_install", "-at_install")
class TestViewerReadOnly(RolesCase):
    """The Viewer is read-only on the server for every model of the registry."""

    def concrete_models(self):
        return [name for name, model in self.env.registry.items() if not model._abstract]

    def test_acl_check_on_every_model(self):
        Access = self.env["ir.model.access"].with_user(self.viewer)
        EditorAccess = self.env["ir.model.access"].with_user(self.editor)
        granted, editor_granted = set(), set()
        for name in self.concrete_models():
            for mode in ("create", "write", "unlink"):
                if Access.check(name, mode, raise_exception=False):
                    granted.add(name)
                if EditorAccess.check(name, mode, raise_exception=False):
                    editor_granted.add(name)
        self.assertLessEqual(granted, VIEWER_PERSONAL_MODELS)
        # the same check lets an Editor write: it is the role that makes the difference
        self.assertGreater(len(editor_granted - VIEWER_PERSONAL_MODELS), 20)
        self.assertIn("res.partner", editor_granted)

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_write_and_unlink_every_readable_record(self):
        """For each model: the Viewer reads a record, and cannot change or delete it."""
        allowed, tried = [], 0
        for name in self.concrete_models():
            Model = self.env[name].with_user(self.viewer)
            if Model._transient or name in VIEWER_PERSONAL_MODELS:
                continue  # personal records: see test_viewer_personal_records
            try:
                record = Model.search([], limit=1)
            except AccessError:
                continue
            if not record or record == self.viewer or record == self.viewer.partner_id:
                continue
            tried += 1
            for label, attempt in (("write", lambda rec=record: rec.write({})),
                                   ("unlink", record.unlink)):
                try:
                    with self.env.cr.savepoint():
                        attempt()
                except AccessError:
                    continue
                allowed.append((name, label))
        self.assertFalse(allowed, "the Viewer changed records of these models")
        # the loop really reached the models that hold records in a bare database
        self.assertGreater(tried, 20)

    def test_create_refused_on_every_model(self):
        for name in self.concrete_models():
            if name in VIEWER_PERSONAL_MODELS:
                continue
            with self.subTest(model=name), self.assertRaises(AccessError):
                self.env[name].with_user(self.viewer).check_access("create")

    def test_viewer_reads_like_an_internal_user(self):
        partner = self.env["res.partner"].create({"name": "Readable partner"})
        self.assertEqual(partner.with_user(self.viewer).read(["name"])[0]["name"], "Readable partner")
        self.assertTrue(self.env["res.country"].with_user(self.viewer).search_count([]))
        with self.assertRaises(AccessError):
            partner.with_user(self.viewer).write({"name": "changed"})
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.viewer).create({"name": "new"})

    def test_viewer_personal_records(self):
        viewer = self.viewer.with_user(self.viewer)
        viewer.write({"tz": "Europe/Brussels", "signature": "<p>V</p>"})  # own preferences
        self.assertEqual(self.viewer.tz, "Europe/Brussels")
        self.env(user=self.viewer).user._change_password("viewer-new-password-2026")
        viewer._check_credentials({"type": "password", "password": "viewer-new-password-2026"},
                                  {"interactive": True})
        settings = self.env["res.users.settings"].with_user(self.viewer)._find_or_create_for_user(
            self.viewer)
        settings.with_user(self.viewer).write({"is_discuss_sidebar_category_chat_open": False})
        others = self.env["res.users.settings"]._find_or_create_for_user(self.editor)
        with self.assertRaises(AccessError):
            others.with_user(self.viewer).write({"is_discuss_sidebar_category_chat_open": False})
        wizard = self.env["auth_totp.wizard"].with_user(self.viewer).create(
            {"user_id": self.viewer.id, "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"})
        self.assertEqual(wizard.create_uid, self.viewer)  # own 2FA enrolment
        # own read-scoped API key, never a full one
        expiry = fields.Datetime.now() + timedelta(days=7)
        key = self.env["res.users.apikeys"].with_user(self.viewer)._generate(
            None, "viewer integration", expiry)
        self.assertEqual(self.viewer.api_key_ids.security_scope, "read")
        self.assertTrue(key)
        with self.assertRaises(AccessError):
            self.env["res.users.apikeys"].with_user(self.viewer).with_context(
                security_key_scope="full")._generate(None, "full", expiry)

    def test_viewer_cannot_write_other_users(self):
        with self.assertRaises(AccessError):
            self.editor.with_user(self.viewer).write({"tz": "Europe/Brussels"})
