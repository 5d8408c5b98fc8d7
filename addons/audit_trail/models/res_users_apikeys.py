import hashlib

from odoo import api, models, tools
from odoo.tools import SQL


class ResUsersApikeys(models.Model):
    _inherit = "res.users.apikeys"

    def _generate(self, scope, name, expiration_date):
        key = super()._generate(scope, name, expiration_date)
        if scope is None:  # RPC keys; other scopes (trusted devices) are 2FA's business
            self.env["audit.event"].log(
                "security_event", "api_key.create", model=self._name,
                details={"name": name, "scope": self.env.context.get("security_key_scope"),
                         "expires": expiration_date and str(expiration_date)})
        return key

    def _remove(self):
        for key in self:
            self.env["audit.event"].log("security_event", "api_key.revoke", model=self._name,
                                        res_id=key.id, res_name=key.name,
                                        details={"owner": key.user_id.login})
        return super()._remove()

    @api.model
    def _security_use_key(self, uid, key):
        scope = super()._security_use_key(uid, key)
        if scope:
            key_id, name = self._audit_key_name(key)
            self.env["audit.event"].log(
                "api_access", "api_key.use", model=self._name, res_id=key_id, res_name=name,
                user=self.env["res.users"].browse(uid), details={"scope": scope})
        return scope

    def _audit_key_name(self, key):
        info = self._security_key_info(hashlib.sha256(key.encode()).hexdigest(), key)
        return info[0], self._audit_key_label(info[0])

    @tools.ormcache("key_id")
    def _audit_key_label(self, key_id):
        self.env.cr.execute(SQL("SELECT name FROM %s WHERE id = %s",
                                SQL.identifier(self._table), key_id))
        row = self.env.cr.fetchone()
        return row and row[0]
