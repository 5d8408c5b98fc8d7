from odoo.exceptions import AccessError
from odoo.models import BaseModel
from odoo.service.model import get_public_method
from odoo.tests import TransactionCase, tagged

SUITE = ("security_roles", "auth_saml_all_tiers", "audit_trail", "security_disclosure",
         "selfhost_backup")


def _suite_class(klass):
    return any(klass.__module__.startswith(f"odoo.addons.{addon}.") for addon in SUITE)


@tagged("post_install", "-at_install")
class TestRpcSurface(TransactionCase):
    """What the suite adds to what RPC clients can call. Every public method
    a suite addon introduces on any model of the registry (not an override of
    a method core already exposes) is a button (`action_*`, which checks its
    caller's rights) or refused to RPC (`@api.private`): a portal user must
    not record audit events or raise alerts through a public helper."""

    def test_every_public_method_the_suite_adds_is_a_button_or_private(self):
        orm = {name for name in dir(BaseModel) if not name.startswith("_")}
        introduced, refused = [], []
        for model_name in self.env.registry:
            model = self.env[model_name]
            cls = type(model)
            for name in dir(cls):
                if name.startswith("_") or name in orm or name in model._fields:
                    continue
                if not callable(getattr(cls, name, None)):
                    continue
                definers = [klass for klass in cls.__mro__ if name in vars(klass)]
                if not definers or not all(_suite_class(klass) for klass in definers):
                    continue  # core's own method (overridden or not): core's to expose
                introduced.append((model_name, name))
                try:
                    get_public_method(model, name)
                except AccessError:
                    refused.append((model_name, name))
        if "audit.event" in self.env:
            self.assertIn(("audit.event", "log"), refused)
        exposed = sorted(set(introduced) - set(refused))
        self.assertTrue(introduced, "the enumeration found the suite's methods")
        self.assertEqual([f"{model}.{name}" for model, name in exposed
                          if not name.startswith("action_")], [],
                         "public helpers an RPC client can call: make them private")
