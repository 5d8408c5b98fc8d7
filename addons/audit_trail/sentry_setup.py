"""Odoo side of error reporting: SENTRY_DSN (environment) or sentry_dsn (odoo.conf)."""
import logging
import os

from odoo import release, tools

_logger = logging.getLogger(__name__)


def dsn_from_config():
    return os.environ.get("SENTRY_DSN") or tools.config.get("sentry_dsn") or None


def _odoo_context(event, hint):
    """Which database and endpoint: never the body, headers or cookies."""
    from odoo.http import request  # noqa: PLC0415 (only meaningful inside a request)

    if request:
        event.setdefault("tags", {})["db"] = request.db
        event["request"] = {"url": request.httprequest.base_url,
                            "method": request.httprequest.method}
    return event


def setup(dsn=None):
    dsn = dsn or dsn_from_config()
    if not dsn:
        return False
    try:
        from .lib import sentry
    except ImportError:
        _logger.warning("SENTRY_DSN is set but sentry-sdk is not installed")
        return False
    sentry.init(dsn, environment=os.environ.get("SENTRY_ENVIRONMENT"),
                release=f"odoo-{release.version}", event_processor=_odoo_context)
    _logger.info("error reporting to Sentry enabled (personal data scrubbed)")
    return True
