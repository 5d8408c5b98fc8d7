"""18.0.1.2.0: the SP entity id and URLs of a provider are stored. They were
computed from web.base.url at every read: each existing provider keeps the
ones its IdP was given, those of the current web.base.url."""
import logging

from odoo import SUPERUSER_ID, api
from odoo.addons.auth_saml_all_tiers.models.auth_saml_provider import SP_URL_FIELDS, sp_urls
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    store_sp_urls(env)


def store_sp_urls(env):
    base = env["ir.config_parameter"].sudo().get_param("web.base.url", "")
    env.cr.execute(SQL("SELECT id FROM auth_saml_provider WHERE %s ORDER BY id", SQL(" OR ").join(
        SQL("%s IS NULL", SQL.identifier(name)) for name in sorted(SP_URL_FIELDS))))
    for (provider_id,) in env.cr.fetchall():
        urls = sp_urls(base, provider_id)
        # only what is missing (SQL: no write() guard or constraint applies to an upgrade)
        env.cr.execute(SQL("UPDATE auth_saml_provider SET %s WHERE id = %s", SQL(", ").join(
            SQL("%s = coalesce(%s, %s)", SQL.identifier(name), SQL.identifier(name), url)
            for name, url in sorted(urls.items())), provider_id))
        _logger.info("SAML provider %s keeps the SP entity id %s", provider_id,
                     urls["sp_entity_id"])
    env["auth.saml.provider"].invalidate_model(sorted(SP_URL_FIELDS))
