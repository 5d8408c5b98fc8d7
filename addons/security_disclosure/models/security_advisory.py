import logging
import re
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq

from odoo.addons.security_roles import actor

from ..lib import csaf as csaf_lib
from ..lib import osv as osv_lib
from ..lib.cvss_vector import InvalidVector, score_v31, score_v40
from .team import check_team_role, principal, refuse, team_level

_logger = logging.getLogger(__name__)

EMBARGO_DAYS = 21
EMBARGO_WARN_DAYS = 90
STATES = [
    ("draft", "Draft"),
    ("review", "Reporter review"),
    ("approved", "Approved"),
    ("broadcast", "Private broadcast"),
    ("public", "Public"),
    ("withdrawn", "Withdrawn"),
]
SEVERITIES = [("none", "None"), ("low", "Low"), ("medium", "Medium"), ("high", "High"),
              ("critical", "Critical")]
# What the public, the recipients and the reporter read of an advisory.
CONTENT_FIELDS = ("title", "component", "affected_versions", "fixed_versions", "cwe_id",
                  "cwe_name", "cve", "cvss31_vector", "cvss40_vector", "summary", "impact",
                  "workaround", "solution", "patch_attachment_ids")
TEAM = "security_disclosure.group_security_team"
# Changed by the workflow's actions only, never by a plain write (RPC included).
WORKFLOW_FIELDS = {"state", "reporter_approved_date", "approval_user_ids", "approved_date",
                   "broadcast_date", "published_date", "withdrawn_date", "revision",
                   "receipt_ids", "revision_ids", "name"}
# Changed by Admins of the team only, whatever the state.
ADMIN_FIELDS = {"approver_ids", "embargo_date"}


class SecurityAdvisory(models.Model):
    _name = "security.advisory"
    _security_confidential = True
    _description = "Security advisory"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_names_search = ["name", "title", "cve"]
    _check_company_auto = True

    name = fields.Char(string="Reference", readonly=True, copy=False, default="/", index=True)
    title = fields.Char(required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    state = fields.Selection(STATES, default="draft", required=True, readonly=True, tracking=True,
                             index=True, copy=False)
    component = fields.Char()
    affected_versions = fields.Char(help="Comma-separated versions or ranges, e.g. 16.0, <=17.0")
    fixed_versions = fields.Char()
    cwe_id = fields.Char(string="CWE", help="e.g. CWE-79")
    cwe_name = fields.Char(string="CWE name")
    cve = fields.Char(string="CVE")
    cvss31_vector = fields.Char(string="CVSS 3.1 vector")
    cvss31_score = fields.Float(string="CVSS 3.1 score", compute="_compute_cvss", store=True,
                                digits=(3, 1))
    cvss31_severity = fields.Selection(SEVERITIES, compute="_compute_cvss", store=True)
    cvss40_vector = fields.Char(string="CVSS 4.0 vector")
    cvss40_score = fields.Float(string="CVSS 4.0 score", compute="_compute_cvss", store=True,
                                digits=(3, 1))
    cvss40_severity = fields.Selection(SEVERITIES, compute="_compute_cvss", store=True)
    summary = fields.Text()
    impact = fields.Text()
    workaround = fields.Text()
    solution = fields.Text()
    # Only files explicitly added here are published with the advisory; other
    # attachments of the chatter stay with the team.
    patch_attachment_ids = fields.Many2many(
        "ir.attachment", "security_advisory_patch_rel", "advisory_id", "attachment_id",
        string="Patches")
    report_ids = fields.Many2many("security.report", "security_advisory_report_rel",
                                  "advisory_id", "report_id", string="Reports", groups=TEAM)
    credit_names = fields.Char(compute="_compute_credit_names",
                               help="Reporters of linked reports who agreed to be credited.")
    revision_ids = fields.One2many("security.advisory.revision", "advisory_id", string="Revisions",
                                   groups=TEAM)
    revision = fields.Integer(readonly=True, default=0, copy=False)

    reporter_approved_date = fields.Datetime(readonly=True, copy=False, groups=TEAM)
    approver_ids = fields.Many2many("res.users", "security_advisory_approver_rel", "advisory_id",
                                    "user_id", string="Named approvers", groups=TEAM,
                                    help="Each of them must approve before the advisory is approved.")
    approval_user_ids = fields.Many2many("res.users", "security_advisory_approval_rel",
                                         "advisory_id", "user_id", string="Approved by",
                                         readonly=True, copy=False, groups=TEAM)
    approved_date = fields.Datetime(readonly=True, copy=False, groups=TEAM)
    broadcast_date = fields.Datetime(readonly=True, copy=False)
    embargo_date = fields.Datetime(copy=False, tracking=True,
                                   help="Published by the scheduled job at this date. Default: "
                                   "broadcast + 21 days.")
    embargo_warning = fields.Char(compute="_compute_embargo_warning")
    published_date = fields.Datetime(readonly=True, copy=False)
    withdrawn_date = fields.Datetime(readonly=True, copy=False)
    withdrawn_reason = fields.Text(copy=False)
    receipt_ids = fields.One2many("security.advisory.receipt", "advisory_id", groups=TEAM)
    receipt_count = fields.Integer(compute="_compute_receipt_stats", groups=TEAM)
    receipt_ack_count = fields.Integer(compute="_compute_receipt_stats", groups=TEAM)

    _sql_constraints = [("name_unique", "unique(name)", "The advisory reference must be unique.")]

    # ------------------------------------------------------------------ computes
    @api.depends("cvss31_vector", "cvss40_vector")
    def _compute_cvss(self):
        for advisory in self:
            advisory.cvss31_score = advisory.cvss40_score = 0.0
            advisory.cvss31_severity = advisory.cvss40_severity = False
            try:
                if advisory.cvss31_vector:
                    _vector, advisory.cvss31_score, advisory.cvss31_severity = score_v31(
                        advisory.cvss31_vector)
                if advisory.cvss40_vector:
                    _vector, advisory.cvss40_score, advisory.cvss40_severity = score_v40(
                        advisory.cvss40_vector)
            except InvalidVector:
                continue  # refused by _check_cvss on save

    def _compute_credit_names(self):
        for advisory in self:
            # sudo: credits are public by the reporters' own choice; the linked
            # reports themselves stay unreadable
            advisory.credit_names = ", ".join(advisory.sudo()._credits())

    @api.depends("embargo_date", "broadcast_date")
    def _compute_embargo_warning(self):
        for advisory in self:
            start = advisory.broadcast_date or fields.Datetime.now()
            if advisory.embargo_date and advisory.embargo_date > start + timedelta(
                    days=EMBARGO_WARN_DAYS):
                advisory.embargo_warning = self.env._(
                    "The embargo lasts more than %(days)s days: customers stay exposed publicly "
                    "unaware for long; check that this is intended.", days=EMBARGO_WARN_DAYS)
            else:
                advisory.embargo_warning = False

    def _compute_receipt_stats(self):
        for advisory in self:
            advisory.receipt_count = len(advisory.receipt_ids)
            advisory.receipt_ack_count = len(advisory.receipt_ids.filtered("ack_date"))

    # --------------------------------------------------------------- constraints
    @api.constrains("cvss31_vector", "cvss40_vector")
    def _check_cvss(self):
        for advisory in self:
            try:
                if advisory.cvss31_vector:
                    score_v31(advisory.cvss31_vector)
                if advisory.cvss40_vector:
                    score_v40(advisory.cvss40_vector)
            except InvalidVector as exc:
                raise ValidationError(self.env._(
                    "%(error)s Copy the vector from a CVSS calculator, e.g. "
                    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H.", error=str(exc))) from None

    @api.constrains("cwe_id", "cve")
    def _check_ids(self):
        for advisory in self:
            if advisory.cwe_id and not re.fullmatch(r"CWE-[1-9]\d{0,5}", advisory.cwe_id):
                raise ValidationError(self.env._("A CWE looks like CWE-79."))
            if advisory.cve and not re.fullmatch(r"CVE-\d{4}-\d{4,}", advisory.cve):
                raise ValidationError(self.env._("A CVE looks like CVE-2024-12345."))

    @api.constrains("patch_attachment_ids")
    def _check_patches(self):
        for advisory in self:
            # sudo: the files' owner document decides, whoever links them
            for attachment in advisory.patch_attachment_ids.sudo():
                if (attachment.res_model, attachment.res_id) != (self._name, advisory.id):
                    raise ValidationError(self.env._(
                        "%(file)s belongs to another document: upload patches on the advisory.",
                        file=attachment.name))

    @api.constrains("embargo_date", "broadcast_date")
    def _check_embargo(self):
        for advisory in self:
            if advisory.embargo_date and advisory.broadcast_date and \
                    advisory.embargo_date < advisory.broadcast_date:
                raise ValidationError(self.env._("The embargo cannot end before the broadcast."))

    # ---------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        check_team_role(self, "editor", self.env._("draft advisories"), "create")
        for vals in vals_list:
            if (WORKFLOW_FIELDS - {"name"}) & set(vals) and not actor.is_server(self.env):
                refuse(self, self.env._(
                    "A new advisory starts as a draft: %(fields)s are set by its workflow.",
                    fields=", ".join(sorted((WORKFLOW_FIELDS - {"name"}) & set(vals)))), "create")
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("security.advisory") or "/"
        return super().create(vals_list)

    def write(self, vals):
        check_team_role(self, "editor", self.env._("edit advisories"))
        if WORKFLOW_FIELDS & set(vals) and not actor.is_server(self.env):
            refuse(self, self.env._(
                "%(fields)s of an advisory change through its workflow buttons only.",
                fields=", ".join(sorted(WORKFLOW_FIELDS & set(vals)))))
        # Who approves, when it goes public and what was released are the Admins' call.
        if ADMIN_FIELDS & set(vals):
            check_team_role(self, "admin", self.env._(
                "change the approvers or the embargo date of an advisory"))
        released = self.filtered(lambda a: a.state in ("approved", "broadcast", "public",
                                                       "withdrawn"))
        if released and ({"report_ids"} | set(CONTENT_FIELDS)) & set(vals):
            check_team_role(self, "admin", self.env._("change an approved advisory"))
        if vals.get("embargo_date") and fields.Datetime.to_datetime(
                vals["embargo_date"]) <= fields.Datetime.now() and not actor.is_server(self.env):
            raise ValidationError(self.env._(
                "The embargo date must be in the future: the advisory is published at that "
                "date. Use Publish now to publish at once."))
        changed_content = set(CONTENT_FIELDS) & set(vals)
        result = super().write(vals)
        # An approval binds the content it was given for: a change in draft or
        # review asks the reporter and the named approvers again.
        pending = self.filtered(lambda a: a.state in ("draft", "review"))
        if pending and (changed_content or "approver_ids" in vals or "report_ids" in vals):
            super(SecurityAdvisory, pending).write(
                {"approval_user_ids": [(5, 0, 0)], "reporter_approved_date": False})
        if changed_content:
            for advisory in self.filtered(lambda a: a.state in ("broadcast", "public")):
                advisory._add_revision(self.env._("Updated: %(fields)s", fields=", ".join(
                    self._fields[f].string for f in sorted(changed_content))))
        return result

    def unlink(self):
        check_team_role(self, "admin", self.env._("delete advisories"), "unlink")
        if any(a.state not in ("draft", "review") for a in self):
            raise UserError(self.env._("Only draft advisories can be deleted; withdraw the others."))
        return super().unlink()

    def _message_subscribe(self, partner_ids=None, subtype_ids=None, customer_ids=None):
        """Before publication, only team members follow an advisory: a follower
        receives every message of it. Checked here, under message_subscribe and
        message_post's subscription of the author alike."""
        if partner_ids and self.filtered(lambda a: a.state not in ("public", "withdrawn")):
            self._check_team_partners(self.env["res.partner"].browse(partner_ids),
                                      self.env._("follow"))
        return super()._message_subscribe(partner_ids=partner_ids, subtype_ids=subtype_ids,
                                          customer_ids=customer_ids)

    def message_post(self, **kwargs):
        """Before publication a message goes to team members only: a partner
        named as recipient would receive it, and could read it afterwards."""
        if kwargs.get("partner_ids") and self.filtered(
                lambda a: a.state not in ("public", "withdrawn")):
            self._check_team_partners(self.env["res.partner"].browse(kwargs["partner_ids"]),
                                      self.env._("receive messages of"))
        return super().message_post(**kwargs)

    def _check_team_partners(self, partners, what):
        team_partners = self.env.ref(TEAM).sudo().users.partner_id
        outsiders = partners - team_partners
        if outsiders:
            raise UserError(self.env._(
                "Only members of the Security team can %(what)s an unpublished advisory "
                "(%(names)s cannot). Recipients get the broadcast instead.",
                what=what, names=", ".join(outsiders.mapped("display_name"))))

    @api.model
    def _get_thread_with_access(self, thread_id, mode="read", **kwargs):
        """Chatter routes reach an advisory through the record rules only: no
        portal token or signed hash opens it (portal accepts both elsewhere)."""
        thread = self.browse(thread_id)
        if thread.exists() and thread.sudo(False).has_access(mode):
            return thread
        return self.browse()

    # ------------------------------------------------------------------- actions
    def action_send_to_reporter(self):
        """draft -> reporter review: the reporters of the linked reports read
        the draft in the portal, comment and approve it."""
        check_team_role(self, "editor", self.env._("send an advisory for review"))
        for advisory in self:
            advisory._require_state("draft")
            reporters = advisory.report_ids.reporter_partner_id
            if not reporters:
                raise UserError(self.env._(
                    "No linked report has a reporter who can review %(ref)s: approve it directly.",
                    ref=advisory.name))
            super(SecurityAdvisory, advisory).write({"state": "review"})
            template = self.env.ref("security_disclosure.mail_template_advisory_review")
            for partner in reporters.filtered("email"):
                # One mail each, tied to no document: no follower sees it.
                template.send_mail(advisory.id, email_values={
                    "recipient_ids": [(6, 0, partner.ids)], "model": False, "res_id": False})
        self._audit("security_advisory_review")

    def _reporter_approve(self, partner):
        """The reporter approves the draft from the portal."""
        self.ensure_one()
        # sudo: called by the portal controller after it checked that `partner`
        # reports one of the linked reports; the reporter cannot write advisories
        advisory = self.sudo()
        if advisory.state != "review" or partner not in advisory.report_ids.reporter_partner_id:
            raise UserError(self.env._("This advisory is not waiting for your review."))
        super(SecurityAdvisory, advisory).write({"reporter_approved_date": fields.Datetime.now()})
        # The reporter comments and approves, but does not follow the draft.
        advisory.with_context(mail_create_nosubscribe=True).message_post(
            body=self.env._("%(name)s approved the draft.", name=partner.name),
                              author_id=partner.id, message_type="comment",
                              subtype_xmlid="mail.mt_note")

    def action_approve(self):
        """Named approvers record their approval; an Admin moves the advisory to
        approved once every named approver (if any) and the reporter agreed."""
        for advisory in self:
            advisory._require_state("draft", "review")
            user = principal(self.env)
            if user in advisory.approver_ids and user not in advisory.approval_user_ids:
                check_team_role(self, "editor", self.env._("approve advisories"))
                super(SecurityAdvisory, advisory).write(
                    {"approval_user_ids": [(4, user.id)]})
                advisory.message_post(body=self.env._("Approved by %(name)s.", name=user.name),
                                      subtype_xmlid="mail.mt_note")
                if team_level(self.env) < 3:
                    continue
            check_team_role(self, "admin", self.env._("approve advisories"))
            if advisory.report_ids.reporter_partner_id and not advisory.reporter_approved_date:
                raise UserError(self.env._(
                    "The reporter has not approved the draft yet: send it for review and wait "
                    "for the approval in the portal."))
            missing = advisory.approver_ids - advisory.approval_user_ids
            if missing:
                raise UserError(self.env._(
                    "Waiting for the approval of: %(names)s.",
                    names=", ".join(missing.mapped("name"))))
            super(SecurityAdvisory, advisory).write(
                {"state": "approved", "approved_date": fields.Datetime.now()})
        self._audit("security_advisory_approve")

    def action_reset_draft(self):
        check_team_role(self, "editor", self.env._("reset advisories to draft"))
        for advisory in self:
            advisory._require_state("review", "approved")
        super().write({"state": "draft", "approval_user_ids": [(5, 0, 0)],
                       "reporter_approved_date": False, "approved_date": False})

    def action_broadcast(self):
        """Private broadcast under embargo: the Admin first reads the list of
        recipients in a wizard, and confirms it."""
        self.ensure_one()
        check_team_role(self, "admin", self.env._("broadcast advisories"))
        self._require_state("approved")
        recipients = self._broadcast_recipients()
        wizard = self.env["security.advisory.broadcast"].create({
            "advisory_id": self.id, "partner_ids": [(6, 0, recipients.ids)]})
        return {
            "type": "ir.actions.act_window", "res_model": wizard._name, "res_id": wizard.id,
            "view_mode": "form", "target": "new",
            "name": self.env._("Broadcast %(ref)s privately", ref=self.name),
        }

    def _broadcast_recipients(self):
        recipients = self.env["res.partner"]._security_advisory_recipients()
        if not recipients:
            raise UserError(self.env._(
                "No recipient: flag partners as advisory subscribers with a contract end "
                "date in the future, and mark the contacts who receive advisories "
                "(Contacts, Security advisories tab)."))
        return recipients

    def _broadcast(self, recipients):
        """One receipt and one e-mail per confirmed recipient; the portal shows
        the advisory to them from now on."""
        check_team_role(self, "admin", self.env._("broadcast advisories"))
        now = fields.Datetime.now()
        for advisory in self:
            advisory._require_state("approved")
            embargo = advisory.embargo_date or now + timedelta(days=EMBARGO_DAYS)
            if embargo <= now:
                raise UserError(self.env._(
                    "The embargo date of %(ref)s has passed: set a date in the future, or "
                    "clear it for the default of %(days)s days.", ref=advisory.name,
                    days=EMBARGO_DAYS))
            super(SecurityAdvisory, advisory).write(
                {"state": "broadcast", "broadcast_date": now, "embargo_date": embargo})
            advisory._add_revision(self.env._("Private broadcast"))
            # sudo: receipts are written by the broadcast only, never by a
            # team member's plain create (which could widen the audience)
            receipts = self.env["security.advisory.receipt"].sudo().create([
                {"advisory_id": advisory.id, "partner_id": partner.id}
                for partner in recipients])
            receipts._send()
            if advisory.embargo_warning:
                advisory.message_post(body=advisory.embargo_warning, subtype_xmlid="mail.mt_note")
        self._audit("security_advisory_broadcast",
                    {"recipient_ids": recipients.ids})

    def action_publish(self):
        check_team_role(self, "admin", self.env._("publish advisories"))
        self._publish()

    def _publish(self):
        now = fields.Datetime.now()
        for advisory in self:
            advisory._require_state("broadcast", "approved")
            super(SecurityAdvisory, advisory).write({"state": "public", "published_date": now})
            advisory._add_revision(self.env._("Public release"))
        self._audit("security_advisory_publish")

    def action_withdraw(self):
        check_team_role(self, "admin", self.env._("withdraw advisories"))
        for advisory in self:
            advisory._require_state("broadcast", "public")
            super(SecurityAdvisory, advisory).write(
                {"state": "withdrawn", "withdrawn_date": fields.Datetime.now()})
            advisory._add_revision(self.env._("Withdrawn"))
        self._audit("security_advisory_withdraw")

    @api.model
    def _cron_publish_embargoed(self):
        """Publish every broadcast advisory whose embargo ended."""
        due = self.search([("state", "=", "broadcast"),
                           ("embargo_date", "<=", fields.Datetime.now())])
        due._publish()
        return due

    # ----------------------------------------------------------------- business
    def _require_state(self, *states):
        self.ensure_one()
        if self.state not in states:
            raise UserError(self.env._(
                "%(ref)s is %(state)s; this needs it to be %(needed)s.", ref=self.name,
                state=dict(STATES)[self.state],
                needed=" / ".join(dict(STATES)[s] for s in states)))

    def _add_revision(self, summary):
        self.ensure_one()
        number = self.revision + 1
        super(SecurityAdvisory, self).write({"revision": number})
        # sudo: revisions are written by the workflow only; the team reads them
        self.env["security.advisory.revision"].sudo().create({
            "advisory_id": self.id, "number": number, "summary": summary,
            "snapshot": "\n".join(f"{f}: {self[f] or ''}" for f in CONTENT_FIELDS
                                   if f != "patch_attachment_ids")
            # the checksum binds the revision to the files' contents
            + "\npatches: " + ", ".join(f"{a.name} (sha1 {a.checksum})"
                                        for a in self.sudo().patch_attachment_ids),
        })

    def _security_patches_changed(self, attachments, how):
        """A revision on each advisory for its patch files changed or removed
        (`attachments`: records, or {id: name} of deleted ones)."""
        # deleted files are gone from the relation: named from `attachments`
        names = attachments.values() if isinstance(attachments, dict) else \
            attachments.mapped("name")
        summary = self.env._("Patch files %(how)s: %(files)s", how=how,
                             files=", ".join(sorted(names)))
        for advisory in self:
            advisory._add_revision(summary)

    def _credits(self):
        names = []
        for report in self.report_ids:
            if report.anonymous:
                continue
            # The name the reporter gave, never a fallback (a contact's name
            # can be their e-mail address).
            if report.credit_preference == "name" and report.reporter_name and \
                    "@" not in report.reporter_name:
                names.append(report.reporter_name)
            elif report.credit_preference == "alias" and report.credit_name:
                names.append(report.credit_name)
        return sorted(set(names))

    def _audit(self, action, details=None):
        if "audit.event" in self.env:
            for advisory in self:
                self.env["audit.event"].log("resource_change", action, model=self._name,
                                            res_id=advisory.id, res_name=advisory.name,
                                            details=details or {})

    def _public_url(self):
        base = self.get_base_url()
        return f"{base}/security/advisories/{self.name}"

    def _export_values(self):
        """Plain dict for the CSAF and OSV builders. Read with sudo by the
        controllers only after the caller passed the record rules."""
        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()
        now = fields.Datetime.now()
        revisions = [{"number": r.number, "date": r.create_date, "summary": r.summary}
                     for r in self.sudo().revision_ids.sorted("number")]
        if not revisions:
            revisions = [{"number": 1, "date": self.create_date, "summary": "Draft"}]
        initial = self.published_date or self.broadcast_date or self.create_date
        return {
            "id": self.name, "title": self.title, "component": self.component,
            "affected_versions": self.affected_versions, "fixed_versions": self.fixed_versions,
            "cwe_id": self.cwe_id, "cwe_name": self.cwe_name, "cve": self.cve,
            "cvss31_vector": self.cvss31_vector, "cvss40_vector": self.cvss40_vector,
            "cvss40_score": self.cvss40_score, "summary": self.summary, "impact": self.impact,
            "workaround": self.workaround, "solution": self.solution,
            "credits": self.sudo()._credits(),
            "publisher_name": params.get_param("security_disclosure.publisher_name")
            or self.company_id.name,
            "publisher_namespace": self.get_base_url(),
            "url": self._public_url(),
            "final": self.state in ("public", "withdrawn"),
            "tlp": "WHITE" if self.state in ("public", "withdrawn") else "AMBER",
            "initial_release_date": initial,
            "current_release_date": max(r["date"] for r in revisions) or now,
            "revisions": revisions,
            "published": initial, "modified": self.write_date or now,
            "withdrawn": self.withdrawn_date,
        }

    def _csaf(self):
        return csaf_lib.validate(csaf_lib.build_csaf(self._export_values()))

    def _osv(self):
        ecosystem = self.env["ir.config_parameter"].sudo().get_param(
            "security_disclosure.osv_ecosystem") or "Odoo"
        return osv_lib.validate(osv_lib.build_osv(self._export_values(), ecosystem=ecosystem))


class SecurityAdvisoryRevision(models.Model):
    _name = "security.advisory.revision"
    _security_confidential = True
    _description = "Security advisory revision"
    _order = "advisory_id, number"

    advisory_id = fields.Many2one("security.advisory", required=True, ondelete="cascade",
                                  index=True)
    number = fields.Integer(required=True)
    summary = fields.Char(required=True)
    snapshot = fields.Text()


class SecurityAdvisoryReceipt(models.Model):
    """A recipient of a private broadcast, and whether they acknowledged it."""
    _name = "security.advisory.receipt"
    _security_confidential = True
    _description = "Security advisory receipt"
    _order = "advisory_id, id"
    _rec_name = "partner_id"

    advisory_id = fields.Many2one("security.advisory", required=True, ondelete="cascade",
                                  index=True)
    partner_id = fields.Many2one("res.partner", required=True, index=True, ondelete="cascade")
    sent_date = fields.Datetime(readonly=True)
    ack_date = fields.Datetime(readonly=True, string="Acknowledged")
    token = fields.Char(default=lambda self: secrets.token_urlsafe(24), copy=False,
                        groups="base.group_system")

    _sql_constraints = [("advisory_partner_unique", "unique(advisory_id, partner_id)",
                         "A partner receives an advisory once.")]

    def _send(self):
        template = self.env.ref("security_disclosure.mail_template_advisory_broadcast")
        for receipt in self:
            template.send_mail(receipt.id, email_values={
                "recipient_ids": [(6, 0, receipt.partner_id.ids)]})
            receipt.sent_date = fields.Datetime.now()

    def _ack_url(self):
        self.ensure_one()
        # sudo: the token is read to build the recipient's own link
        return f"{self.get_base_url()}/security/advisories/ack/{self.id}/{self.sudo().token}"

    def _token_ok(self, token):
        self.ensure_one()
        # sudo: compares the token; it is never returned
        return bool(token) and consteq(self.sudo().token or "", token)

    def _acknowledge(self, token=None, partner=None):
        """Acknowledge with the e-mailed token or as the recipient partner."""
        self.ensure_one()
        # sudo: the controller calls this for a recipient who cannot write receipts;
        # the token or the partner is checked right here
        receipt = self.sudo()
        if not ((token and consteq(receipt.token or "", token)) or
                (partner and receipt.partner_id == partner)):
            return False
        if not receipt.ack_date:
            receipt.ack_date = fields.Datetime.now()
        return True
