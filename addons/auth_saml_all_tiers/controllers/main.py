import base64
import io
import logging
import re
import secrets
import time

import pyotp
import qrcode

from odoo import http
from odoo.addons.auth_totp.controllers.home import Home as TotpHome
from odoo.addons.security_roles.actor import set_request_principal
from odoo.addons.web.controllers.session import Session as SessionController
from odoo.addons.web.controllers.utils import _get_login_redirect_url
from odoo.exceptions import AccessDenied
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from werkzeug.exceptions import NotFound

from ..lib import saml
from ..lib.redirects import local_path
from ..models.mfa_policy import looks_like_recovery_code

_logger = logging.getLogger(__name__)

SESSION_REQUESTS = "saml_requests"  # outstanding AuthnRequest ids of this browser
MAX_PENDING = 5
PENDING_SECONDS = 600


def _local_path(target, default="/odoo"):
    """Only a path on this server (RelayState and every redirect parameter come
    back from the browser): see lib.redirects."""
    return local_path(target, default)


class SamlController(http.Controller):

    def _provider(self, provider_id):
        # sudo: the login routes are public; only active providers answer
        provider = request.env["auth.saml.provider"].sudo().browse(provider_id).exists()
        if not provider or not provider.active:
            raise NotFound()
        return provider

    @http.route("/auth_saml/login/<int:provider_id>", type="http", auth="public",
                methods=["GET"], sitemap=False)
    def saml_login(self, provider_id, redirect=None, **kw):
        provider = self._provider(provider_id)
        auth = provider._auth(provider.sp_acs_url)
        url = auth.login(return_to=_local_path(redirect))
        now = time.time()
        pending = {rid: entry for rid, entry in (request.session.get(SESSION_REQUESTS) or {}).items()
                   if entry["time"] > now - PENDING_SECONDS}
        pending[auth.get_last_request_id()] = {"provider": provider.id, "time": now}
        request.session[SESSION_REQUESTS] = dict(
            sorted(pending.items(), key=lambda item: item[1]["time"])[-MAX_PENDING:])
        return request.redirect(url, local=False)

    @http.route("/auth_saml/acs/<int:provider_id>", type="http", auth="public", methods=["POST"],
                csrf=False, sitemap=False)
    def saml_acs(self, provider_id, SAMLResponse=None, RelayState=None, **kw):
        provider = self._provider(provider_id)
        try:
            uid = self._acs(provider, SAMLResponse, RelayState)
        except saml.SamlError as error:
            return self._refuse(provider, error)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # a concurrent request (the same assertion twice): Odoo retries this one
        except Exception as error:  # noqa: BLE001 (a clear page and an audit event, always)
            _logger.exception("SAML login through %s failed", provider.name)
            request.env.cr.rollback()
            return self._refuse(provider, saml.SamlError(
                f"error: {type(error).__name__}", request.env._(
                    "The sign-in could not be completed. An administrator can find the "
                    "reason in the audit trail.")))
        # straight in, or to the second factor (or its enrolment) first
        return request.redirect(_get_login_redirect_url(uid or request.session.pre_uid,
                                                        redirect=_local_path(RelayState)))

    def _acs(self, provider, saml_response, relay_state):
        in_response_to = saml.peek_response(saml_response)
        pending = dict(request.session.get(SESSION_REQUESTS) or {})
        if in_response_to:
            entry = pending.get(in_response_to)
            if not entry or entry["provider"] != provider.id \
                    or entry["time"] < time.time() - PENDING_SECONDS:
                raise saml.SamlError("unknown_request", request.env._(
                    "This sign-in was not started from this browser, or it took too long. "
                    "Start again from the login page."))
        elif not provider.allow_idp_initiated:
            raise saml.SamlError("idp_initiated_disabled", request.env._(
                "Sign-in started at the identity provider is not allowed for %s. "
                "Start from the login page.", provider.name))
        auth = provider._auth(provider.sp_acs_url, "POST", post={
            "SAMLResponse": saml_response, "RelayState": relay_state or ""})
        try:
            auth.process_response(request_id=in_response_to)
        except Exception as error:  # python3-saml raises on some malformed input
            _logger.info("SAML response refused: %s", error)
            raise saml.SamlError("invalid", request.env._(
                "The answer of the identity provider was refused.")) from error
        errors = auth.get_errors()
        if errors or not auth.is_authenticated():
            raise saml.SamlError(
                f"invalid: {auth.get_last_error_reason() or ', '.join(errors)}"[:500],
                request.env._("The answer of the identity provider was refused."))
        if in_response_to:  # each request is answered once
            pending.pop(in_response_to, None)
            request.session[SESSION_REQUESTS] = pending
        checked = saml.check_validated_response(auth.get_last_response_xml(),
                                                provider.sp_acs_url, in_response_to)
        if not provider._remember_assertion(auth.get_last_assertion_id(),
                                            saml.parse_time(checked["expires"])):
            raise saml.SamlError("replay", request.env._("This sign-in was already used."))
        user = provider._user_for_assertion(auth.get_nameid(), auth.get_attributes())
        token = provider._issue_ticket(user)
        request.env.cr.commit()  # the ticket and the replay entry, before the login reads them
        try:
            request.session.authenticate(request.db, {"type": "saml", "login": user.login,
                                                      "token": token})
        except AccessDenied as error:
            raise saml.SamlError("login_refused", error.args[0] if error.args
                                 and error.args[0] != AccessDenied().args[0]
                                 else request.env._("The login was refused.")) from error
        request.session["saml_provider_id"] = provider.id
        request.session["saml_nameid"] = auth.get_nameid()
        request.session["saml_session_index"] = auth.get_session_index()
        return request.session.uid

    def _refuse(self, provider, error):
        _logger.warning("SAML login through %s refused: %s", provider.name, error.reason)
        if "audit.event" in request.env:  # audit_trail is optional
            request.env["audit.event"].sudo().log(  # sudo: anyone's failure is recorded
                "authentication", "saml.login", outcome="failure", model=provider._name,
                res_id=provider.id, res_name=provider.name,
                details={"reason": error.reason, "provider": provider.name})
        response = request.render("auth_saml_all_tiers.saml_error", {
            "message": str(error), "provider": provider})
        response.status_code = 403
        return response

    @http.route("/auth_saml/metadata/<int:provider_id>", type="http", auth="public",
                methods=["GET"], sitemap=False)
    def saml_metadata(self, provider_id, **kw):
        provider = self._provider(provider_id)
        return request.make_response(provider._sp_metadata(), headers=[
            ("Content-Type", "application/samlmetadata+xml; charset=utf-8")])

    @http.route("/auth_saml/sls/<int:provider_id>", type="http", auth="public",
                methods=["GET"], sitemap=False)
    def saml_sls(self, provider_id, **kw):
        """Single logout: a LogoutRequest from the IdP (ends this session) or
        the LogoutResponse to ours."""
        provider = self._provider(provider_id)
        args = request.httprequest.args.to_dict()
        if "SAMLRequest" in args:
            # a LogoutRequest ends a session: it must be signed, and for this session's identity
            if not args.get("Signature"):
                return self._refuse(provider, saml.SamlError("logout: unsigned", request.env._(
                    "The logout message of the identity provider was refused.")))
            nameid = saml.logout_request_nameid(args["SAMLRequest"])
            if request.session.get("saml_provider_id") != provider.id \
                    or nameid != request.session.get("saml_nameid"):
                return self._refuse(provider, saml.SamlError(
                    "logout: another identity", request.env._(
                        "The logout message is for another session.")))
        auth = provider._auth(provider.sp_sls_url, get=args)
        try:
            url = auth.process_slo(request_id=request.session.pop("saml_logout_request", None),
                                   delete_session_cb=lambda: request.session.logout(
                                       keep_db=True))
        except Exception as error:  # malformed input
            _logger.info("SAML logout refused: %s", error)
            url, errors = None, ["malformed"]
        else:
            errors = auth.get_errors()
        if errors:
            return self._refuse(provider, saml.SamlError(
                f"logout: {auth.get_last_error_reason() or ', '.join(errors)}"[:500],
                request.env._("The logout message of the identity provider was refused.")))
        request.session.logout(keep_db=True)
        return request.redirect(url or "/web/login", local=not url)


class Home(TotpHome):

    def _login_redirect(self, uid, redirect=None):
        # every way out of a login (password, code, enrolment, SSO) goes here
        return super()._login_redirect(uid, redirect=_local_path(redirect, None))

    @http.route()
    def web_login(self, redirect=None, **kw):
        # core sends a logged-in visitor straight to `redirect`: a local path only
        redirect = _local_path(redirect, None)
        if request.httprequest.method == "POST" and kw.get("saml_discover"):
            # "Use single sign-on": no password is checked (nor counted as a failure)
            provider = request.env["auth.saml.provider"]._discover(kw.get("login"))
            if provider:
                return request.redirect(
                    f"/auth_saml/login/{provider.id}?redirect={_local_path(redirect)}")
            return request.redirect("/web/login?saml_error=domain")
        response = super().web_login(redirect=redirect, **kw)
        if getattr(response, "qcontext", None) is not None:
            # sudo: the login page shows every active provider's button
            response.qcontext["saml_providers"] = request.env["auth.saml.provider"].sudo().search(
                [])
            if kw.get("saml_error") == "domain":
                response.qcontext["error"] = request.env._(
                    "No single sign-on is set up for this e-mail domain.")
        return response


    @http.route()
    def web_totp(self, redirect=None, **kwargs):
        """Core's code page, which also takes a one-time recovery code."""
        token = kwargs.get("totp_token") or ""
        # sudo: the half-logged-in user, who gave their password
        user = request.env["res.users"].sudo().browse(request.session.pre_uid) \
            if request.session.pre_uid and not request.session.uid else None
        if user:  # who acts on this page (a trusted device, a recovery code) is that user
            set_request_principal(user.id)
        redirect = _local_path(redirect, None)
        if not (user and user.totp_enabled and request.httprequest.method == "POST"
                and looks_like_recovery_code(token)):
            return super().web_totp(redirect=redirect, **kwargs)
        try:
            user._recovery_code_check(token)
        except AccessDenied as error:
            request.env.cr.commit()  # the failure is counted and audited
            return request.render("auth_totp.auth_totp_form", {
                "user": user, "error": str(error), "redirect": _local_path(redirect, None)})
        request.session.finalize(request.env)
        request.update_env(user=request.session.uid)
        request.update_context(**request.session.context)
        return request.redirect(self._login_redirect(request.session.uid,
                                                     redirect=_local_path(redirect, None)))

    @http.route("/web/login/totp/enroll", type="http", auth="public", methods=["GET", "POST"],
                sitemap=False)
    def web_totp_enroll(self, redirect=None, **kw):
        """Forced enrolment: the role requires two-factor login and the user has
        no authenticator yet. The session stays half-open until a code from
        the new authenticator is entered."""
        redirect = _local_path(redirect, None)
        if request.session.uid:
            return request.redirect(self._login_redirect(request.session.uid, redirect=redirect))
        if not request.session.pre_uid:
            return request.redirect("/web/login")
        # sudo: the half-logged-in user, who gave their password
        user = request.env["res.users"].sudo().browse(request.session.pre_uid)
        # who acts here is that user, enrolling their own authenticator
        set_request_principal(user.id)
        if user.totp_enabled or user._mfa_url() != "/web/login/totp/enroll":
            return request.redirect(self._login_redirect(user.id, redirect=redirect))
        enrolment = request.session.get("totp_enroll") or {}
        if enrolment.get("uid") != user.id:  # never another user's secret
            enrolment = request.session["totp_enroll"] = {
                "uid": user.id, "secret": base64.b32encode(secrets.token_bytes(20)).decode()}
        secret = enrolment["secret"]
        error = None
        if request.httprequest.method == "POST":
            code = re.sub(r"\s", "", kw.get("totp_token") or "")
            try:
                with user._totp_throttle():
                    if not (code.isdigit()
                            and user.with_user(user)._totp_try_setting(secret, int(code))):
                        raise AccessDenied(request.env._(
                            "Verification failed, please double-check the code."))
            except AccessDenied as refused:
                error = str(refused)
            else:
                user._totp_remember_code(code)
                request.session.pop("totp_enroll", None)
                codes = user._recovery_codes_generate()
                user._mfa_audit("totp.enroll", "success")
                request.session.finalize(request.env)
                request.update_env(user=request.session.uid)
                request.update_context(**request.session.context)
                # the codes are in this page only (not in the session, nor in a
                # record): no cache keeps it either
                return request.render("auth_saml_all_tiers.totp_recovery_codes", {
                    "codes": codes,
                    "redirect": self._login_redirect(request.session.uid, redirect=redirect),
                }, headers={"Cache-Control": "no-store"})
        issuer = request.env.company.name or request.db
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.login, issuer_name=issuer)
        image = io.BytesIO()
        qrcode.make(uri.encode(), box_size=4).save(image, optimise=True, format="PNG")
        return request.render("auth_saml_all_tiers.totp_enroll", {
            "user": user, "error": error, "redirect": redirect,
            "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
            "qrcode": "data:image/png;base64," + base64.b64encode(image.getvalue()).decode(),
        })


class Session(SessionController):

    @http.route()
    def logout(self, redirect="/odoo"):
        """Ends the Odoo session, then, for a session opened by SAML with an
        IdP that has a logout URL, the IdP's session too (SP-initiated SLO)."""
        provider_id = request.session.get("saml_provider_id")
        nameid = request.session.get("saml_nameid")
        session_index = request.session.get("saml_session_index")
        request.session.logout(keep_db=True)
        provider = request.env["auth.saml.provider"].sudo().browse(provider_id).exists() \
            if provider_id else None  # sudo: the session's own provider
        if not (provider and provider.active and provider.idp_slo_url):
            return request.redirect(redirect, 303)
        auth = provider._auth(provider.sp_sls_url)
        url = auth.logout(return_to=_local_path(redirect, "/web/login"), name_id=nameid,
                          session_index=session_index)
        request.session["saml_logout_request"] = auth.get_last_request_id()
        return request.redirect(url, 303, local=False)
