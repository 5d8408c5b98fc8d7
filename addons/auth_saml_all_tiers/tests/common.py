import re

from odoo.tests import HttpCase
from odoo.tests.common import JsonRpcException

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class LoginCase(HttpCase):
    """HTTP tests that follow one test browser's session through the login pages."""

    def session_uid(self):
        """The user logged in on this test browser's session, or None."""
        try:
            return self.make_jsonrpc_request("/web/session/get_session_info").get("uid")
        except JsonRpcException as error:
            if "SessionExpired" in str(error):
                return None
            raise

    def csrf(self, page=None):
        """The CSRF token of a page (by default, a fresh login page)."""
        return CSRF_RE.search(page or self.url_open("/web/login").text).group(1)
