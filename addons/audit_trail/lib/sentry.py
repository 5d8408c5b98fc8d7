"""Error reporting to Sentry with personal data scrubbed from every event.
Plain Python (sentry-sdk, no Odoo)."""
import logging

from .scrub import scrub

# endpoints whose request bodies carry credentials: never attach anything of them
CREDENTIAL_PATHS = ("/web/login", "/web/session/authenticate", "/web/signup",
                    "/web/reset_password", "/auth_saml", "/xmlrpc", "/jsonrpc", "/web/dataset")


def scrub_event(event, hint=None):
    """before_send: drop what identifies people or sessions, then mask
    secret keys and scrub e-mails, IPs and inline secrets from all text."""
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("cookies", "data", "env", "headers"):
            request.pop(key, None)
        request.pop("query_string", None)
        url = request.get("url") or ""
        if any(path in url for path in CREDENTIAL_PATHS):
            request["url"] = url.split("?", 1)[0]
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        logentry.pop("params", None)  # raw arguments: the scrubbed `formatted` says it all
    # frames keep file, function and line: no local variables, no source lines
    # (literals in code are not for an error tracker either)
    for container in ("exception", "threads"):
        for value in (event.get(container) or {}).get("values") or []:
            for frame in (value.get("stacktrace") or {}).get("frames") or []:
                for key in ("vars", "pre_context", "context_line", "post_context"):
                    frame.pop(key, None)
    return scrub(event)


def scrub_breadcrumb(crumb, hint=None):
    return scrub(crumb)


def init(dsn, environment=None, release=None, event_processor=None):
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        default_integrations=False,
        integrations=[LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
        traces_sample_rate=0,
        auto_session_tracking=False,
        send_client_reports=False,
    )
    if event_processor:
        sentry_sdk.get_global_scope().add_event_processor(event_processor)
    return sentry_sdk.get_client()
