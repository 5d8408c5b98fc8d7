import contextlib


@contextlib.contextmanager
def independent_cursor(env):
    """A cursor of its own, committed whatever becomes of `env.cr` (which may
    be read-only or about to roll back). Yields None where Odoo's test cursors
    cannot nest a read/write cursor in a read-only one (trying leaks their
    lock and hangs the test server); real cursors always can."""
    if env.registry.test_cr is not None and env.cr.readonly:
        yield None
        return
    with env.registry.cursor() as cr:
        yield cr
