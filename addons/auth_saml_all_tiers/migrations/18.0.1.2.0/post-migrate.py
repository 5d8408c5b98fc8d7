"""18.0.1.2.0:

- the SP entity id and URLs of a provider are stored. They were computed from
  web.base.url at every read: each existing provider keeps the ones its IdP
  was given, those of the current web.base.url;
- e-mail domains are normalized and each belongs to one provider. A domain two
  providers claimed stays with the one the login page sent it to (active
  first, then by sequence); entries that are no domain are dropped. Both are
  logged as warnings."""
import logging

from odoo import SUPERUSER_ID, api
from odoo.addons.auth_saml_all_tiers.lib import domains
from odoo.addons.auth_saml_all_tiers.models.auth_saml_provider import SP_URL_FIELDS, sp_urls
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    store_sp_urls(env)
    index_domains(env)


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
        _logger.info("SAML provider %s: SP URLs stored from web.base.url %s", provider_id, base)
    env["auth.saml.provider"].invalidate_model(sorted(SP_URL_FIELDS))


def index_domains(env):
    cr = env.cr
    cr.execute("SELECT name, provider_id FROM auth_saml_provider_domain")
    held = dict(cr.fetchall())
    cr.execute("SELECT id, email_domains FROM auth_saml_provider"
               " WHERE coalesce(email_domains, '') != '' ORDER BY active DESC, sequence, id")
    for provider_id, text in cr.fetchall():
        kept = []
        for entry in domains.SEPARATORS_RE.split(text):
            if not entry.strip(" .@"):
                continue
            try:
                domain = domains.normalize_domain(entry)
            except ValueError:
                _logger.warning("SAML provider %s: %r is no e-mail domain, dropped",
                                provider_id, entry)
                continue
            if held.get(domain, provider_id) != provider_id:
                _logger.warning("SAML provider %s: the e-mail domain %s stays with provider %s "
                                "only", provider_id, domain, held[domain])
                continue
            if domain not in kept:
                kept.append(domain)
                held[domain] = provider_id
        cr.execute(SQL("UPDATE auth_saml_provider SET email_domains = %s WHERE id = %s",
                       ", ".join(kept) or None, provider_id))
        for domain in kept:
            cr.execute(SQL(
                "INSERT INTO auth_saml_provider_domain (name, provider_id, create_uid, create_date,"
                " write_uid, write_date) VALUES (%s, %s, %s, now() at time zone 'utc', %s,"
                " now() at time zone 'utc') ON CONFLICT (name) DO NOTHING",
                domain, provider_id, SUPERUSER_ID, SUPERUSER_ID))
    cr.execute("SELECT id FROM auth_saml_provider WHERE jit_create"
               " AND coalesce(email_domains, '') = ''")
    for (provider_id,) in cr.fetchall():
        _logger.warning("SAML provider %s creates users on first login but has no e-mail domain:"
                        " it creates none until it is given its domains", provider_id)
    env["auth.saml.provider"].invalidate_model(["email_domains", "domain_ids"])
