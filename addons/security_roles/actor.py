"""Who is really acting: the principal the server authenticated for this call.

Every guard of the suite asks this, never `env.uid` (code can `with_user()`
anyone) nor `env.su` (core routes run as sudo), nor a context key (an RPC
caller sends any context it likes):

- an HTTP request: the user its route authenticated (session, bearer key),
  captured by ir.http once authentication is done, or the user whose login
  succeeded during the request; anonymous (0) otherwise;
- an RPC call (XML-RPC, JSON-RPC: Odoo pops the HTTP request for those): the
  uid res.users.check() verified;
- nothing of the above (scheduled actions, the shell, module loading from the
  command line): server code, which the environment speaks for.
"""
import contextlib
import contextvars
import threading

from odoo import SUPERUSER_ID
from odoo.http import request

ANONYMOUS = 0

# Set by the few server-side flows that change a user's credentials on that
# user's behalf without a session: a valid reset-password token, the forced
# 2FA enrolment of a half-logged-in user. Context variables, not context keys:
# no RPC caller can set them.
_ACTING_FOR = contextvars.ContextVar("security_roles_acting_for", default=None)


def mark_rpc_principal(db, uid, scope):
    """res.users.check() verified `uid` for the RPC call about to run here."""
    threading.current_thread().security_roles_rpc = (db, uid, scope)


def rpc_principal():
    """(uid, scope) of the RPC call running in this thread, or None. Odoo's
    dispatcher sets thread.dbname/uid right after res.users.check() and clears
    them at every RPC and HTTP request, so a marker never outlives its call."""
    thread = threading.current_thread()
    marker = getattr(thread, "security_roles_rpc", None)
    if marker is not None and marker[0] == getattr(thread, "dbname", None) \
            and marker[1] == getattr(thread, "uid", None):
        return marker[1], marker[2]
    return None


def principal_uid():
    """uid of the authenticated principal of the current request or RPC call,
    ANONYMOUS for an unauthenticated request, None outside requests and RPC."""
    if request:
        return getattr(request, "security_roles_principal", None) or ANONYMOUS
    rpc = rpc_principal()
    if rpc is not None:
        return rpc[0]
    return None


def set_request_principal(uid):
    if request:
        request.security_roles_principal = uid or ANONYMOUS


def acting_uid(env):
    """The uid whose rights decide: the principal when there is one, else the
    environment's user (sudo() does not make server code the superuser)."""
    uid = principal_uid()
    return env.uid if uid is None else uid


def is_server(env):
    """Code the server runs on its own as the superuser (scheduled actions of
    the root user, the shell, command-line installs): trusted, like whoever
    can run the server."""
    return principal_uid() is None and env.uid == SUPERUSER_ID


@contextlib.contextmanager
def flag(var, value=True):
    """Set a context variable for the block: the suite's server-side flows mark
    themselves this way, never with a context key an RPC caller could send."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def acting_for(uid):
    """Within the block, the credentials of `uid` may be changed as if `uid`
    were acting (a reset-password token or a pending login proved it)."""
    return flag(_ACTING_FOR, uid)


def acting_for_uid():
    return _ACTING_FOR.get()
