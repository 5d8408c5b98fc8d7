import contextlib
import importlib.util
import logging
import os
import re
from pathlib import Path
from unittest.mock import patch

import odoo
from odoo.tests import HttpCase
from odoo.tests.common import JsonRpcException
from odoo.tools import SQL

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
# every column that can hold text: the scan of assert_not_in_database
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "bytea")


def load_migration(version):
    """The post-migrate script of `version` (its file name is no module name)."""
    path = Path(__file__).parent.parent / "migrations" / version / "post-migrate.py"
    spec = importlib.util.spec_from_file_location(f"auth_saml_migration_{version}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def secret_forms(secrets):
    """The ways a code could be written down: as shown, without its dashes,
    with spaces (the case does not matter: searches ignore it)."""
    return sorted({form for secret in secrets
                   for form in (secret, secret.replace("-", ""), secret.replace("-", " "))})


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        try:
            self.messages.append((record.name, record.getMessage()))
        except Exception:  # noqa: BLE001 (a badly formatted record holds nothing)
            self.messages.append((record.name, str(record.msg)))


class LoginCase(HttpCase):
    """HTTP tests that follow one test browser's session through the login pages."""

    def authenticate(self, user, password, browser=None):
        """Core's test session (no password check), also for an account with an
        authenticator: core opens it by a non-interactive login, which such an
        account refuses to a password (API keys only)."""
        with patch.object(self.registry["res.users"], "_rpc_api_keys_only", lambda _self: False):
            return super().authenticate(user, password, browser=browser)

    def session_uid(self):
        """The user logged in on this test browser's session, or None."""
        try:
            return self.make_jsonrpc_request("/web/session/get_session_info").get("uid")
        except JsonRpcException as error:
            if "SessionExpired" in str(error):
                return None
            raise

    def form_login(self, login, password):
        """The login form, as a person posts it (no redirect followed)."""
        page = self.url_open("/web/login").text
        return self.url_open("/web/login", data={
            "login": login, "password": password, "csrf_token": self.csrf(page)},
            allow_redirects=False)

    def csrf(self, page=None):
        """The CSRF token of a page (by default, a fresh login page)."""
        return CSRF_RE.search(page or self.url_open("/web/login").text).group(1)

    # -- where secrets must not be -----------------------------------------
    def assert_not_in_database(self, secrets):
        """No text, varchar, json(b) or bytea column of any table of the
        database holds any of `secrets`, however written (see secret_forms)."""
        self.env.flush_all()
        patterns = [f"%{form}%" for form in secret_forms(secrets)]
        self.env.cr.execute("""
            SELECT c.table_schema, c.table_name,
                   array_agg(c.column_name::text ORDER BY c.column_name),
                   array_agg(c.data_type::text ORDER BY c.column_name)
              FROM information_schema.columns c
              JOIN information_schema.tables t USING (table_schema, table_name)
             WHERE t.table_type = 'BASE TABLE'
               AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
               AND c.data_type IN %s
             GROUP BY c.table_schema, c.table_name
        """, [TEXT_TYPES])
        tables = self.env.cr.fetchall()
        self.assertIn("auth_recovery_code", {table for _schema, table, *_columns in tables})
        found = []
        for schema, table, columns, types in tables:
            # one scan per table: does each column hold any form of any secret?
            # (bytea as its bytes, not as its hexadecimal text)
            self.env.cr.execute(SQL("SELECT %s FROM %s", SQL(", ").join(
                SQL("bool_or(encode(%s, 'escape') ILIKE ANY(%s))" if kind == "bytea" else
                    "bool_or(%s::text ILIKE ANY(%s))", SQL.identifier(column), patterns)
                for column, kind in zip(columns, types, strict=True)),
                SQL.identifier(schema, table)))
            found += [f"{table}.{column}" for column, hit
                      in zip(columns, self.env.cr.fetchone(), strict=True) if hit]
        self.assertFalse(found, "secrets stored in the database")

    def assert_not_in_sessions(self, secrets):
        """No session of the session store (every file of it) holds any of `secrets`."""
        path = odoo.http.root.session_store.path
        forms = [form.lower().encode() for form in secret_forms(secrets)]
        found = scanned = 0
        for folder, _dirs, files in os.walk(path):
            for name in files:
                with open(os.path.join(folder, name), "rb") as session:
                    content = session.read().lower()
                scanned += 1
                found += any(form in content for form in forms)
        self.assertTrue(scanned)
        self.assertFalse(found, f"secrets stored in {found} of {scanned} sessions")

    @contextlib.contextmanager
    def collect_logs(self):
        """(logger, message) of every log record of the block, debug ones
        included (they reach no other handler: those keep the level they had)."""
        root = logging.getLogger()
        collect, level = _Collect(), root.level
        kept = [(handler, handler.level) for handler in root.handlers]
        for handler, handler_level in kept:
            handler.setLevel(max(handler_level, level))
        root.addHandler(collect)
        root.setLevel(logging.DEBUG)
        try:
            yield collect.messages
        finally:
            root.setLevel(level)
            root.removeHandler(collect)
            for handler, handler_level in kept:
                handler.setLevel(handler_level)

    def assert_not_in_logs(self, records, secrets):
        """None of the (logger, message) `records` of collect_logs holds any of
        `secrets` (the failure names the loggers, not the secrets)."""
        forms = [form.lower() for form in secret_forms(secrets)]
        self.assertFalse([name for name, message in records
                          if any(form in message.lower() for form in forms)],
                         "secrets written to the log by these loggers")
