import logging

from werkzeug.exceptions import Forbidden, NotFound

from odoo import _, fields, http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..lib.securitytxt import build_security_txt, split_contacts, valid_contact
from ..lib.text import strip_html
from ..models.security_report import (
    HONEYPOT, INTAKE_FIELDS, MAX_DESCRIPTION, MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES)

_logger = logging.getLogger(__name__)

PUBLIC_STATES = ("public", "withdrawn")


def _int_param(params, key, default):
    try:
        return int(params.get_param(key) or default)
    except ValueError:
        _logger.warning("Ignoring the non-numeric system parameter %s", key)
        return default


def _params():
    # sudo: the disclosure settings are public by nature (security.txt, pages)
    return request.env["ir.config_parameter"].sudo()


class SecurityDisclosure(http.Controller):
    # ------------------------------------------------------------------ intake
    @http.route("/security/report", type="http", auth="public", methods=["GET"], sitemap=False, website=True)
    def report_form(self, **kw):
        return request.render("security_disclosure.report_form", {"values": {}, "errors": []})

    # max_content_length: a larger request is refused (413) before it is read,
    # instead of being buffered up to Odoo's default 128 MiB first.
    @http.route("/security/report", type="http", auth="public", methods=["POST"], csrf=True,
                sitemap=False, website=True, max_content_length=MAX_TOTAL_BYTES + 1024 * 1024)
    def report_submit(self, **post):
        """The model checks and stores the report (security.report._intake_submit);
        when it refuses it, the form comes back with what was typed and why."""
        values = {key: post.get(key, "") for key in INTAKE_FIELDS}
        values["anonymous"] = bool(post.get("anonymous"))
        uploads = request.httprequest.files.getlist("attachments")
        # one byte past the limit tells the model that a file is too large
        files = [(upload.filename, upload.read(MAX_FILE_BYTES + 1))
                 for upload in uploads[:MAX_FILES + 1] if upload.filename]
        try:
            report = request.env["security.report"]._intake_submit(
                dict(values, **{HONEYPOT: post.get(HONEYPOT)}),
                request.httprequest.remote_addr, files)
        except ValidationError as refusal:
            return self._form_error(values, getattr(refusal, "reasons", [refusal.args[0]]),
                                    getattr(refusal, "status", 400))
        except Exception:
            # nothing was stored (the model's savepoint): the visitor keeps the text
            _logger.exception("The report form failed; the visitor got the form back")
            return self._form_error(values, [_(
                "Your report could not be saved, and nothing was stored. Please send it again "
                "in a moment, or write to our security e-mail address.")], 500)
        return request.render("security_disclosure.report_thanks", {
            "report": report, "held": report.intake_held, "follow_url": report.get_portal_url()})

    def _form_error(self, values, errors, status):
        response = request.render("security_disclosure.report_form",
                                  {"values": values, "errors": errors})
        response.status_code = status
        return response

    @http.route("/.well-known/security.txt", type="http", auth="public", methods=["GET"],
                sitemap=False, website=True)
    def security_txt(self, **kw):
        params = _params()
        base = params.get_param("web.base.url")
        # Only mailto:/https: URIs are published (a parameter written behind the
        # settings' back could hold anything).
        contacts = [c for c in split_contacts(params.get_param("security_disclosure.contact"))
                    if valid_contact(c)]
        if not contacts:
            alias = request.env.ref("security_disclosure.mail_alias_security_report",
                                    raise_if_not_found=False)
            # sudo: the alias address is published on purpose
            if alias and alias.sudo().alias_full_name and "@" in alias.sudo().alias_full_name:
                contacts.append("mailto:" + alias.sudo().alias_full_name)
            contacts.append(f"{base}/security/report")
        text = build_security_txt(
            contacts,
            policy=params.get_param("security_disclosure.policy_url") or f"{base}/security/policy",
            acknowledgments=f"{base}/security/hall-of-fame",
            languages=params.get_param("security_disclosure.languages") or "en",
            canonical=f"{base}/.well-known/security.txt",
            expires_days=_int_param(params, "security_disclosure.expires_days", 180),
        )
        return request.make_response(text, headers=[("Content-Type", "text/plain; charset=utf-8")])

    @http.route("/security/policy", type="http", auth="public", methods=["GET"], sitemap=False, website=True)
    def policy(self, **kw):
        # sudo: out-of-scope classes are published policy
        scopes = request.env["security.report.scope"].sudo().search([])
        return request.render("security_disclosure.policy_page", {"scopes": scopes})

    # --------------------------------------------------------- public advisories
    def _advisory(self, ref):
        """The advisory `ref` if the visitor may read it (record rules of the
        current user), else 404: unpublished ones do not even exist for others."""
        advisory = request.env["security.advisory"].search([("name", "=", ref)], limit=1)
        if not advisory:
            raise NotFound()
        return advisory

    @http.route("/security/advisories", type="http", auth="public", methods=["GET"], website=True)
    def advisories(self, **kw):
        advisories = request.env["security.advisory"].search(
            [("state", "in", PUBLIC_STATES), ("published_date", "!=", False)],
            order="published_date desc")
        return request.render("security_disclosure.advisory_list", {"advisories": advisories})

    @http.route("/security/advisories/feed.json", type="http", auth="public", methods=["GET"], website=True)
    def advisories_feed(self, **kw):
        advisories = request.env["security.advisory"].search(
            [("state", "in", PUBLIC_STATES), ("published_date", "!=", False)],
            order="published_date desc", limit=100)
        base = advisories.get_base_url() if advisories else request.httprequest.host_url.rstrip("/")
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": _("Security advisories"),
            "home_page_url": f"{base}/security/advisories",
            "feed_url": f"{base}/security/advisories/feed.json",
            "items": [{
                "id": a.name,
                "url": a._public_url(),
                "title": f"{a.name}: {a.title}" + (" [withdrawn]" if a.state == "withdrawn" else ""),
                "content_text": a.summary or a.title,
                "date_published": fields.Datetime.to_datetime(a.published_date).isoformat() + "Z",
                "date_modified": fields.Datetime.to_datetime(a.write_date).isoformat() + "Z",
                "tags": [t for t in (a.cve, a.cwe_id, a.cvss31_severity) if t],
                "_security": {"cvss31": a.cvss31_vector or None, "cvss40": a.cvss40_vector or None,
                              "csaf": f"{a._public_url()}/csaf.json",
                              "osv": f"{a._public_url()}/osv.json"},
            } for a in advisories],
        }
        return request.make_json_response(feed)

    @http.route("/security/advisories/<string:ref>", type="http", auth="public", methods=["GET"], website=True)
    def advisory_page(self, ref, **kw):
        advisory = self._advisory(ref)
        return request.render("security_disclosure.advisory_page", {
            "advisory": advisory,
            # sudo: revision numbers, dates and summaries of an advisory the
            # visitor may read; the snapshots stay with the team
            "revisions": advisory.sudo().revision_ids.sorted("number"),
            "patches": advisory.sudo().patch_attachment_ids,
        })

    @http.route("/security/advisories/<string:ref>/csaf.json", type="http", auth="public",
                methods=["GET"], website=True)
    def advisory_csaf(self, ref, **kw):
        advisory = self._advisory(ref)
        return request.make_json_response(advisory._csaf())

    @http.route("/security/advisories/<string:ref>/osv.json", type="http", auth="public",
                methods=["GET"], website=True)
    def advisory_osv(self, ref, **kw):
        advisory = self._advisory(ref)
        return request.make_json_response(advisory._osv())

    @http.route("/security/advisories/<string:ref>/files/<int:attachment_id>", type="http",
                auth="public", methods=["GET"], website=True)
    def advisory_file(self, ref, attachment_id, **kw):
        advisory = self._advisory(ref)
        # sudo: the visitor passed the advisory's record rules; only a file of
        # this very advisory is served
        attachment = advisory.sudo().patch_attachment_ids.filtered(lambda a: a.id == attachment_id)
        if not attachment:
            raise NotFound()
        return request.env["ir.binary"]._get_stream_from(attachment).get_response(
            as_attachment=True)

    @http.route("/security/advisories/ack/<int:receipt_id>/<string:token>", type="http",
                auth="public", methods=["GET", "POST"], sitemap=False, website=True)
    def advisory_ack(self, receipt_id, token, **kw):
        """The e-mailed link: GET asks (mail scanners follow links), POST records."""
        receipt = request.env["security.advisory.receipt"].browse(receipt_id)
        # sudo: existence only; the token is checked before anything is shown or done
        if not receipt.sudo().exists() or not receipt._token_ok(token):
            raise NotFound()
        if request.httprequest.method == "POST":
            receipt._acknowledge(token=token)
            return request.render("security_disclosure.advisory_ack_done", {"done": True})
        return request.render("security_disclosure.advisory_ack_done", {"done": False})

    @http.route("/security/hall-of-fame", type="http", auth="public", methods=["GET"], website=True)
    def hall_of_fame(self, **kw):
        advisories = request.env["security.advisory"].search(
            [("state", "in", PUBLIC_STATES), ("published_date", "!=", False)],
            order="published_date desc")
        entries = []
        for advisory in advisories:
            # sudo: published advisories only; names of reporters who consented
            for name in advisory.sudo()._credits():
                entries.append({"name": name, "advisory": advisory})
        return request.render("security_disclosure.hall_of_fame", {"entries": entries})


class SecurityDisclosurePortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "security_report_count" in counters:
            values["security_report_count"] = request.env["security.report"].search_count(
                [("reporter_partner_id", "=", request.env.user.partner_id.id)])
        if "security_advisory_count" in counters:
            values["security_advisory_count"] = request.env["security.advisory"].search_count(
                self._my_advisories_domain())
        return values

    def _my_advisories_domain(self):
        return [("state", "not in", ("draft", "withdrawn")), "|",
                ("published_date", "=", False), ("state", "!=", "public")]

    # ----------------------------------------------------------------- reports
    @http.route("/my/security/reports", type="http", auth="user", methods=["GET"], website=True)
    def my_security_reports(self, **kw):
        reports = request.env["security.report"].search(
            [("reporter_partner_id", "=", request.env.user.partner_id.id)])
        return request.render("security_disclosure.portal_my_reports",
                              {"reports": reports, "page_name": "security_reports"})

    def _report_access(self, report_id, access_token=None):
        try:
            return self._document_check_access("security.report", report_id, access_token)
        except (AccessError, MissingError):
            raise NotFound() from None

    @http.route("/my/security/reports/<int:report_id>", type="http", auth="public",
                methods=["GET"], website=True)
    def my_security_report(self, report_id, access_token=None, **kw):
        report = self._report_access(report_id, access_token)
        return self._render_report(report, access_token)

    def _render_report(self, report, access_token, error=None, comment=""):
        # The reporter reads the public replies, never the team's notes.
        messages = report.message_ids.filtered(
            lambda m: m.message_type == "comment" and not m.is_internal
            and m.subtype_id and not m.subtype_id.internal)
        return request.render("security_disclosure.portal_my_report", {
            "report": report, "messages": messages, "access_token": access_token,
            "page_name": "security_report", "error": error, "comment": comment})

    @http.route("/my/security/reports/<int:report_id>/comment", type="http", auth="public",
                methods=["POST"], website=True)
    def my_security_report_comment(self, report_id, access_token=None, comment="", **kw):
        report = self._report_access(report_id, access_token)
        partner = report.reporter_partner_id if request.env.user._is_public() \
            else request.env.user.partner_id
        if not partner:
            raise Forbidden()
        try:
            report._portal_comment(comment, partner)
        except ValidationError as refusal:
            response = self._render_report(report, access_token, error=refusal.args[0],
                                           comment=comment)
            response.status_code = 400
            return response
        url = f"/my/security/reports/{report.id}"
        return request.redirect(url + (f"?access_token={access_token}" if access_token else ""))

    # -------------------------------------------------------------- advisories
    @http.route("/my/security/advisories", type="http", auth="user", methods=["GET"], website=True)
    def my_security_advisories(self, **kw):
        advisories = request.env["security.advisory"].search(self._my_advisories_domain())
        return request.render("security_disclosure.portal_my_advisories",
                              {"advisories": advisories, "page_name": "security_advisories"})

    def _my_advisory(self, advisory_id):
        advisory = request.env["security.advisory"].browse(advisory_id).exists()
        try:
            advisory.check_access("read")
        except AccessError:
            raise NotFound() from None
        if not advisory:
            raise NotFound()
        return advisory

    @http.route("/my/security/advisories/<int:advisory_id>", type="http", auth="user",
                methods=["GET"], website=True)
    def my_security_advisory(self, advisory_id, **kw):
        advisory = self._my_advisory(advisory_id)
        partner = request.env.user.partner_id
        # sudo: the user passed the advisory's record rules; their own receipt,
        # the linked reporters and the review comments are shown to them
        advisory_sudo = advisory.sudo()
        receipt = advisory_sudo.receipt_ids.filtered(lambda r: r.partner_id == partner)
        is_reviewer = partner in advisory_sudo.report_ids.reporter_partner_id
        comments = advisory_sudo.message_ids.filtered(
            lambda m: m.message_type == "comment" and m.author_id == partner) if is_reviewer \
            else request.env["mail.message"]
        return request.render("security_disclosure.portal_my_advisory", {
            "advisory": advisory, "receipt": receipt, "is_reviewer": is_reviewer,
            "comments": comments, "patches": advisory_sudo.patch_attachment_ids,
            "reviewed": is_reviewer and advisory_sudo.reporter_approved_date,
            "page_name": "security_advisory"})

    @http.route("/my/security/advisories/<int:advisory_id>/files/<int:attachment_id>",
                type="http", auth="user", methods=["GET"], website=True)
    def my_security_advisory_file(self, advisory_id, attachment_id, **kw):
        advisory = self._my_advisory(advisory_id)
        # sudo: a file of an advisory the user may read, and only that
        attachment = advisory.sudo().patch_attachment_ids.filtered(
            lambda a: a.id == attachment_id)  # sudo: see above
        if not attachment:
            raise NotFound()
        return request.env["ir.binary"]._get_stream_from(attachment).get_response(
            as_attachment=True)

    @http.route("/my/security/advisories/<int:advisory_id>/ack", type="http", auth="user",
                methods=["POST"], website=True)
    def my_security_advisory_ack(self, advisory_id, **kw):
        advisory = self._my_advisory(advisory_id)
        partner = request.env.user.partner_id
        # sudo: the user's own receipt of an advisory they may read
        receipt = advisory.sudo().receipt_ids.filtered(lambda r: r.partner_id == partner)
        if not receipt:
            raise NotFound()
        receipt._acknowledge(partner=partner)
        return request.redirect(f"/my/security/advisories/{advisory.id}")

    @http.route("/my/security/advisories/<int:advisory_id>/review", type="http", auth="user",
                methods=["POST"], website=True)
    def my_security_advisory_review(self, advisory_id, comment="", approve=None, **kw):
        advisory = self._my_advisory(advisory_id)
        partner = request.env.user.partner_id
        # sudo: the reviewer is checked right below against the linked reports
        advisory_sudo = advisory.sudo()
        if advisory_sudo.state != "review" or \
                partner not in advisory_sudo.report_ids.reporter_partner_id:
            raise Forbidden()
        text = strip_html(comment or "")[:MAX_DESCRIPTION]
        if text:
            # the reviewer comments without following the unpublished advisory
            advisory_sudo.with_context(mail_create_nosubscribe=True).message_post(
                body=text, author_id=partner.id, message_type="comment",
                subtype_xmlid="mail.mt_note")
        if approve:
            advisory._reporter_approve(partner)
        return request.redirect(f"/my/security/advisories/{advisory.id}")
