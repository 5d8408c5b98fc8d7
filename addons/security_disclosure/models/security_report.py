import logging
from datetime import timedelta

import pytz

from odoo import api, fields, models
from odoo.fields import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tools import email_normalize
from odoo.tools.mail import email_split_tuples

from odoo.addons.security_roles import actor

from ..lib import intake
from ..lib.text import one_line, strip_html
from .team import check_team_decides, check_team_role, refuse

_logger = logging.getLogger(__name__)

ACK_HOURS = 48
TRIAGE_BUSINESS_DAYS = 5
MAX_TITLE = 200
MAX_DESCRIPTION = 20000
MAX_NAME = 200
MAX_FILES = 3
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 10 * 1024 * 1024
# What the public form sends, as the visitor typed it.
INTAKE_FIELDS = ("title", "description", "versions", "name", "email", "anonymous",
                 "credit_preference", "credit_name")
# A field people never see: only bots fill it.
HONEYPOT = "website_url"
CREDIT_PREFERENCES = ("none", "name", "alias")
# The flood limits' decision on an e-mail, from routing to message_new.
INTAKE_DECISION = "security_intake_decision"

STATES = [
    ("new", "New"),
    ("acknowledged", "Acknowledged"),
    ("triaged", "Triaged"),
    ("remediation", "In remediation"),
    ("resolved", "Resolved"),
    ("closed", "Closed"),
]
OUTCOMES = [
    ("valid", "Valid"),
    ("needs_info", "Needs more information"),
    ("duplicate", "Duplicate"),
    ("out_of_scope", "Out of scope"),
    ("not_reproducible", "Not reproducible"),
    ("informative", "Informative"),
]
# Outcomes after which nothing is left to fix.
CLOSING_OUTCOMES = ("duplicate", "out_of_scope", "not_reproducible", "informative")
# Changed by the workflow's actions only, never by a plain write (RPC included).
# Who reads a released advisory through a report (its reporter) and is credited on it.
AUDIENCE_FIELDS = {"advisory_ids", "reporter_partner_id"}
WORKFLOW_FIELDS = {"state", "triage_outcome", "acknowledged_date", "triaged_date",
                   "resolved_date", "closed_date", "ack_breached", "triage_breached",
                   "sla_alerted", "received_date", "name", "submitter_ip", "intake_held"}
# Set by the intake when it creates a report; changed later by the workflow only.
INTAKE_SET_FIELDS = {"received_date", "name", "submitter_ip", "intake_held"}


class IntakeRefused(ValidationError):
    """A report the intake does not store, with every reason; `status`: the
    HTTP status the form answers with."""

    def __init__(self, reasons, status=400):
        super().__init__("\n".join(reasons))
        self.reasons = reasons
        self.status = status


class SecurityReport(models.Model):
    _name = "security.report"
    _security_confidential = True
    _description = "Vulnerability report"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "received_date desc, id desc"
    _rec_names_search = ["name", "title"]
    _check_company_auto = True
    _mail_post_access = "read"

    name = fields.Char(string="Reference", readonly=True, copy=False, default="/", index=True)
    title = fields.Char(required=True, tracking=True)
    description = fields.Text(help="Plain text: markup from the form or e-mail is removed.")
    state = fields.Selection(STATES, default="new", required=True, tracking=True, index=True,
                             group_expand="_group_expand_states")
    triage_outcome = fields.Selection(OUTCOMES, tracking=True)
    duplicate_of_id = fields.Many2one("security.report", string="Duplicate of", index=True,
                                      check_company=True)
    scope_class_id = fields.Many2one("security.report.scope", string="Out-of-scope class")
    channel = fields.Selection([("web", "Web form"), ("email", "E-mail"), ("manual", "Manual")],
                               default="manual", required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    reporter_partner_id = fields.Many2one("res.partner", string="Reporter", index=True)
    reporter_name = fields.Char()
    reporter_email = fields.Char()
    anonymous = fields.Boolean(
        help="The reporter gave no identity, or asked that it is never disclosed.")
    credit_preference = fields.Selection(
        [("none", "Do not credit me"), ("name", "Credit my name"), ("alias", "Credit this alias")],
        default="none", required=True)
    credit_name = fields.Char(string="Credit as")
    submitter_ip = fields.Char(groups="security_disclosure.group_security_team", readonly=True)
    intake_held = fields.Boolean(
        string="Held for review", readonly=True, copy=False, tracking=True,
        help="Arrived past the hourly cap of its channel (a flood): kept, but its reporter got "
        "no receipt. Release it, acknowledge it or triage it once reviewed.")
    advisory_ids = fields.Many2many("security.advisory", "security_advisory_report_rel",
                                    "report_id", "advisory_id", string="Advisories")

    received_date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    ack_deadline = fields.Datetime(compute="_compute_deadlines", store=True,
                                   string="Acknowledge by")
    triage_deadline = fields.Datetime(compute="_compute_deadlines", store=True,
                                      string="Triage by")
    acknowledged_date = fields.Datetime(readonly=True, copy=False)
    triaged_date = fields.Datetime(readonly=True, copy=False)
    resolved_date = fields.Datetime(readonly=True, copy=False)
    closed_date = fields.Datetime(readonly=True, copy=False)
    ack_breached = fields.Boolean(string="Acknowledgement late", readonly=True, copy=False)
    triage_breached = fields.Boolean(string="Triage late", readonly=True, copy=False)
    sla_breached = fields.Boolean(compute="_compute_sla_breached", store=True)
    sla_alerted = fields.Char(readonly=True, copy=False,
                              help="Which deadlines were already alerted (ack, triage).")
    next_deadline = fields.Datetime(compute="_compute_next_deadline", store=True)

    # ------------------------------------------------------------------ computes
    @api.depends("received_date", "company_id.resource_calendar_id")
    def _compute_deadlines(self):
        for report in self:
            received = report.received_date or fields.Datetime.now()
            report.ack_deadline = received + timedelta(hours=ACK_HOURS)
            report.triage_deadline = report._triage_deadline_from(received)

    def _triage_deadline_from(self, received):
        """5 business days on the company's working calendar, leaves and public
        holidays included: the same point of the working day, 5 working days
        after the day of receipt (the end of the 5th working day when received
        outside working hours). Counted in working days, not in an average of
        hours per day, so that days of different lengths count as one day each."""
        calendar = self.company_id.resource_calendar_id or self.env.company.resource_calendar_id
        if not calendar:
            return received + timedelta(days=7)
        tz = pytz.timezone(calendar.tz or "UTC")
        local = pytz.utc.localize(received).astimezone(tz)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        intervals = calendar._work_intervals_batch(
            day_start, day_start + timedelta(days=60), compute_leaves=True)[False]
        days = {}
        for start, stop, _meta in intervals:
            days.setdefault(start.astimezone(tz).date(), []).append((start, stop))
        first = local.date()
        worked = sum(((min(stop, local) - start) for start, stop in days.get(first, [])
                      if start < local), timedelta())
        ends_today = max((stop for _start, stop in days.get(first, [])), default=None)
        if ends_today is None or local >= ends_today:
            worked = None  # outside working hours: 5 full working days
        later = sorted(day for day in days if day > first)
        if len(later) < TRIAGE_BUSINESS_DAYS:
            return received + timedelta(days=7)
        target = sorted(days[later[TRIAGE_BUSINESS_DAYS - 1]])
        deadline = target[-1][1]
        if worked is not None:
            for start, stop in target:
                if start + worked <= stop:
                    deadline = start + worked
                    break
                worked -= stop - start
        return deadline.astimezone(pytz.utc).replace(tzinfo=None)

    @api.depends("ack_breached", "triage_breached")
    def _compute_sla_breached(self):
        for report in self:
            report.sla_breached = report.ack_breached or report.triage_breached

    @api.depends("state", "ack_deadline", "triage_deadline")
    def _compute_next_deadline(self):
        for report in self:
            if report.state == "new":
                report.next_deadline = report.ack_deadline
            elif report.state == "acknowledged":
                report.next_deadline = report.triage_deadline
            else:
                report.next_deadline = False

    @api.model
    def _group_expand_states(self, states, domain):
        return [key for key, _label in STATES]

    def _compute_access_url(self):
        super()._compute_access_url()
        for report in self:
            report.access_url = f"/my/security/reports/{report.id}"

    # --------------------------------------------------------------- constraints
    @api.constrains("duplicate_of_id")
    def _check_duplicate_of(self):
        for report in self:
            if report.duplicate_of_id and report.duplicate_of_id._origin == report._origin:
                raise ValidationError(self.env._("A report cannot be a duplicate of itself."))
            # Follow the chain: a report cannot end up a duplicate of itself
            # through others (A -> B -> C -> A).
            seen, original = report, report.duplicate_of_id
            while original:
                if original in seen:
                    raise ValidationError(self.env._(
                        "%(a)s and %(b)s cannot be duplicates of each other, directly or "
                        "through other reports: keep one as the original.",
                        a=report.name, b=report.duplicate_of_id.name))
                seen |= original
                original = original.duplicate_of_id

    @api.constrains("title", "description")
    def _check_sizes(self):
        for report in self:
            errors = self._size_errors(report.title, report.description)
            if errors:
                raise ValidationError("\n".join(errors))

    @api.model
    def _size_errors(self, title, description):
        """What is too long in this title and description: the constraint and
        the intake's check, on the very values to store."""
        errors = []
        if len(title or "") > MAX_TITLE:
            errors.append(self.env._("The title is longer than %(max)s characters.",
                                     max=MAX_TITLE))
        if len(description or "") > MAX_DESCRIPTION:
            errors.append(self.env._(
                "The description is %(count)s characters long, over the limit of %(max)s "
                "characters: shorten it or attach a file instead.",
                count=len(description), max=MAX_DESCRIPTION))
        return errors

    # ---------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            forced = WORKFLOW_FIELDS - INTAKE_SET_FIELDS
            if forced & set(vals) and not actor.is_server(self.env):
                refuse(self, self.env._(
                    "A new report starts as New: %(fields)s are set by its workflow.",
                    fields=", ".join(sorted(forced & set(vals)))), "create")
            _plain_text(vals)
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("security.report") or "/"
        self._security_check_audience_vals(vals_list)
        reports = super().create(vals_list)
        for report in reports:
            if report.reporter_partner_id:
                report.message_subscribe(partner_ids=report.reporter_partner_id.ids)
        return reports

    def write(self, vals):
        _plain_text(vals)
        if WORKFLOW_FIELDS & set(vals) and not actor.is_server(self.env):
            refuse(self, self.env._(
                "%(fields)s of a report change through its workflow buttons only.",
                fields=", ".join(sorted(WORKFLOW_FIELDS & set(vals)))))
        if not AUDIENCE_FIELDS & set(vals):
            return super().write(vals)
        before = self._security_audience()
        result = super().write(vals)
        if self._security_audience() != before:
            self._security_check_audience()
        return result

    # Through the reports linked to an advisory past reporter review, their
    # reporters read it in the portal and are credited on it: who they are is
    # an Admin's call (of the team, or the Owner), as on the advisory's side.
    def _security_audience(self):
        """{(advisory, report, reporter)} for the released advisories of self,
        and who reports a report linked to any advisory (a reporter reads the
        advisory under review: changing who that is, is an Admin's call too)."""
        # sudo: the advisories' states and the reporters decide, whoever asks
        return {(advisory.id, report.id, report.reporter_partner_id.id)
                for report in self.sudo() for advisory in report.advisory_ids
                if advisory.state not in ("draft", "review")} | {
                (False, report.id, report.reporter_partner_id.id)
                for report in self.sudo() if report.advisory_ids}

    @api.model
    def _security_check_audience_vals(self, vals_list):
        """A new report (created, copied, from an e-mail) linked to a released
        advisory: refused before it exists."""
        advisory_ids = set()
        for vals in vals_list:
            for command in vals.get("advisory_ids") or ():
                if isinstance(command, int):
                    advisory_ids.add(command)
                elif command[0] == Command.LINK:
                    advisory_ids.add(command[1])
                elif command[0] == Command.SET:
                    advisory_ids.update(command[2])
        # sudo: the advisories' states decide, whoever asks
        advisories = self.env["security.advisory"].sudo().browse(advisory_ids).exists()
        if advisories.filtered(lambda a: a.state not in ("draft", "review")):
            self._security_check_audience("create")

    def _security_check_audience(self, operation="write"):
        check_team_decides(self, self.env._(
            "link reports to an advisory past review, or change the reporter of such a "
            "report: its reporter reads the advisory"), operation)

    def _write_workflow(self, vals):
        """Write workflow fields after the action checked the role and state."""
        return super().write(vals)

    def unlink(self):
        check_team_role(self, "admin", self.env._("delete reports"), "unlink")
        return super().unlink()

    # -------------------------------------------------------------------- intake
    # Both channels, form and e-mail, go through the same steps: the values as
    # they will be stored and what prevents it (_intake_values), the flood
    # limits (_intake_admit), a new contact for the reporter (_intake_contact),
    # then files, the original text and the receipt (_intake_complete).

    @api.model
    def _intake_submit(self, raw, source, files=()):
        """A report from the public form, for the visitor of the request
        (public or logged in). `raw`: the form's fields as typed (INTAKE_FIELDS
        and the honeypot), `source`: the visitor's IP address, `files`:
        (name, bytes) pairs. Checked once, whole, before anything is stored:
        IntakeRefused with every reason, and nothing stored; else the report
        (sudo), held for the team's review past the form's hourly cap."""
        if raw.get(HONEYPOT):
            raise IntakeRefused([self.env._(
                "Your submission looks automated and was not accepted. Leave the hidden "
                "field empty.")])
        vals, errors = self._intake_values(raw, "web")
        errors += self._intake_file_errors(files)
        if errors:
            raise IntakeRefused(errors)
        # Counted and stored together, or neither: a refusal at any step
        # leaves nothing behind, the flood counter included.
        with self.env.cr.savepoint():
            decision = self._intake_admit("web", source)
            if decision == intake.REFUSE:
                raise IntakeRefused([self.env._(
                    "Too many reports from your network in the last hour. Please try again "
                    "later or write to our security e-mail address.")], 429)
            receipt_to = vals.pop("receipt_to")
            user = self.env.user
            if not user._is_public():
                # a logged-in reporter follows the report from their portal
                vals["reporter_partner_id"] = user.partner_id.id
            elif vals["reporter_email"]:
                vals["reporter_partner_id"] = self._intake_contact(
                    vals["reporter_name"], vals["reporter_email"]).id
            vals.update(submitter_ip=not vals["anonymous"] and source,
                        intake_held=decision == intake.HOLD)
            # sudo: the public form creates the report for a visitor who cannot
            # read reports; only the values checked above are written
            report = self.sudo().create(vals)
            report._intake_complete(raw, files, receipt_to)
            report._portal_ensure_token()
        return report

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A report from the e-mail alias: the subject becomes its title (one
        plain-text line; the reference is always the sequence's), the plain
        text of the body its description; the sender becomes the reporter and
        gets the receipt. The flood limits count per sender address; the mail
        gateway drops what they refuse before this is called (mail_thread.py)."""
        email_from = msg_dict.get("email_from") or ""
        email = email_normalize(email_from)
        decision = msg_dict.pop(INTAKE_DECISION, None) or self._intake_admit("email", email)
        if decision == intake.REFUSE:
            raise IntakeRefused([self.env._(
                "Too many reports from %(sender)s in the last hour.", sender=email or "?")], 429)
        raw = {"title": msg_dict.get("subject") or "", "description": msg_dict.get("body") or "",
               "email": email, "name": (email_split_tuples(email_from) or [("", "")])[0][0]}
        values, _errors = self._intake_values(raw, "email")
        receipt_to = values.pop("receipt_to")
        if email:
            partner = self._intake_contact(values["reporter_name"], email)
            values["reporter_partner_id"] = partner.id
            # The e-mail is posted as theirs, so the matched contact does not follow it.
            msg_dict["author_id"] = partner.id
        values.update(custom_values or {})
        # the reference comes from the sequence, never from the subject (which
        # mail.thread would make the name: it would then be the reference the
        # audit trail, alerts and notifications show)
        values.update(name="/", intake_held=decision == intake.HOLD)
        report = super().message_new(msg_dict, custom_values=values)
        report._intake_complete(raw, receipt_to=receipt_to)
        return report

    @api.model
    def _intake_values(self, raw, channel):
        """(values, errors): the report `raw` makes, as it will be stored, and
        what prevents storing it; `values["receipt_to"]`: where its receipt
        goes. `raw`: the form's fields as typed, or an e-mail's subject (title),
        body (description), sender address (email) and name. The sizes are
        checked by the model's own rule on the very values to store, so a
        report that passes is saved. An e-mail's sender cannot correct it: its
        title and description are cut to fit instead (the original goes with
        the report) and an empty subject gets a default title."""
        errors = []
        title = one_line(raw.get("title"))
        description = strip_html(raw.get("description"))
        versions = one_line(raw.get("versions"))
        name = one_line(raw.get("name"))
        typed_email = (raw.get("email") or "").replace("\x00", "").strip()
        email = email_normalize(typed_email) or False
        credit = raw.get("credit_preference")
        credit = credit if credit in CREDIT_PREFERENCES else "none"
        credit_name = one_line(raw.get("credit_name"))
        if channel == "email":
            title = title[:MAX_TITLE].rstrip() or self.env._("Report by e-mail")
            description = description[:MAX_DESCRIPTION]
            name = name[:MAX_NAME]
            anonymous = not email
        else:
            if not title:
                errors.append(self.env._("Give the report a title."))
            if not description:
                errors.append(self.env._(
                    "Describe the vulnerability and the steps to reproduce it."))
            if versions:
                description += "\n\n" + self.env._("Versions: %(v)s", v=versions)
            if typed_email and not email:
                errors.append(self.env._("%(email)s is not a valid e-mail address.",
                                         email=typed_email))
            if len(name) > MAX_NAME:
                errors.append(self.env._("The name is longer than %(max)s characters.",
                                         max=MAX_NAME))
            if len(credit_name) > MAX_NAME:
                errors.append(self.env._("The credit alias is longer than %(max)s characters.",
                                         max=MAX_NAME))
            if credit == "alias" and not credit_name:
                errors.append(self.env._("Give the alias under which you want to be credited."))
            user = self.env.user
            # anonymous when asked, or when a visitor gives no address
            anonymous = bool(raw.get("anonymous")) or (user._is_public() and not email)
            if not user._is_public():
                name = name or user.partner_id.name
                email = email or user.partner_id.email_normalized or False
        errors += self._size_errors(title, description)
        if versions and len(description) > MAX_DESCRIPTION:
            errors.append(self.env._("The affected versions are added to the description and "
                                     "count in its length."))
        values = {
            "title": title, "description": description, "channel": channel,
            "reporter_name": name or False, "reporter_email": email, "anonymous": anonymous,
            "credit_preference": credit, "credit_name": credit_name or False,
            "receipt_to": email,
        }
        if anonymous:
            # no name, no address, no IP kept, never credited: an address typed
            # only receives the receipt
            values.update(reporter_name=False, reporter_email=False, credit_preference="none",
                          credit_name=False, receipt_to=email_normalize(typed_email) or False)
        return values, errors

    @api.model
    def _intake_file_errors(self, files):
        """What is wrong with the files sent with a report ((name, bytes))."""
        errors = []
        if len(files) > MAX_FILES:
            errors.append(self.env._("Attach at most %(count)s files.", count=MAX_FILES))
        for name, data in files:
            if len(data) > MAX_FILE_BYTES:
                errors.append(self.env._("%(file)s is larger than %(size)s MB.", file=name,
                                         size=MAX_FILE_BYTES // (1024 * 1024)))
        if sum(len(data) for _name, data in files) > MAX_TOTAL_BYTES:
            errors.append(self.env._("The attachments exceed %(size)s MB in total.",
                                     size=MAX_TOTAL_BYTES // (1024 * 1024)))
        return errors

    @api.model
    def _intake_admit(self, channel, source):
        """The flood limits' decision on a new report from `source` (the
        form's visitor IP, an e-mail's sender address): intake.ACCEPT, HOLD or
        REFUSE. Each refusal is logged; a channel's first held report of an
        hour raises an alert (with audit_trail)."""
        # sudo: the limits are counted for visitors and e-mail senders
        decision = self.env["security.report.intake"].sudo()._admit(channel, source)
        if decision == intake.REFUSE:
            _logger.info("Vulnerability report intake: refused a %s report from %s "
                         "(hourly flood limit)", channel, source)
        elif decision == intake.HOLD:
            _logger.info("Vulnerability report intake: held a %s report from %s for review "
                         "(hourly cap)", channel, source)
            if "audit.alert" in self.env:
                hour = fields.Datetime.now().strftime("%Y-%m-%d %H")
                self.env["audit.alert"].raise_alert(
                    "security_report_intake_flood",
                    self.env._("Vulnerability reports held for review"),
                    self.env._("More new reports than the hourly cap arrived by %(channel)s: "
                               "the next ones are kept but held for review, without receipt. "
                               "Review them with the filter Held for review.",
                               channel=dict(self._fields["channel"].selection)[channel]),
                    key=f"{channel}:{hour}")
        return decision

    @api.model
    def _intake_contact(self, name, email):
        """The reporter's contact: a new one for the address typed in the form
        or an e-mail's From, never an existing one (anyone can use anyone's
        address, and the reporter follows the report, reviews its draft
        advisory and is credited). Only the team reads it (record rule)."""
        # sudo: the sender is a visitor or an e-mail's, not a user
        return self.env["res.partner"].sudo().create({
            "name": name or email, "email": email, "security_intake_contact": True})

    def _intake_complete(self, raw, files=(), receipt_to=None):
        """After the report of `raw` is created: its files, the original text
        when storing it changed it, and the receipt unless it is held."""
        self.ensure_one()
        if files:
            # sudo: the reporter's own files, attached to the report just created
            self.env["ir.attachment"].sudo().create([{
                "name": one_line(name, MAX_NAME) or "attachment", "raw": data,
                "res_model": self._name, "res_id": self.id} for name, data in files])
        title, description = _plain(raw.get("title")), _plain(raw.get("description"))
        if self.title != title or not (self.description or "").startswith(description):
            self._keep_original(title, description)
        if not self.intake_held:
            self._send_receipt(email=receipt_to)

    def _keep_original(self, title, description):
        """Loses nothing: when markup was removed (a PoC payload is markup) or
        the text was cut, the original goes with the report as a plain-text
        file, which only the team reads and which is never rendered."""
        self.ensure_one()
        # sudo: the sender is the public user or the mail gateway; the file
        # belongs to the report just created
        return self.env["ir.attachment"].sudo().create({
            "name": "original-report.txt", "mimetype": "text/plain",
            "raw": f"{title}\n\n{description}".encode(),
            "res_model": self._name, "res_id": self.id})

    # ------------------------------------------------------------------- actions
    def action_acknowledge(self):
        check_team_role(self, "editor", self.env._("acknowledge reports"))
        for report in self:
            if report.state != "new":
                raise UserError(self.env._("%(ref)s is already acknowledged.", ref=report.name))
        self._write_workflow({"state": "acknowledged", "acknowledged_date": fields.Datetime.now(),
                              "intake_held": False})
        self._update_sla_flags()
        self._audit("security_report_acknowledge")

    def action_release(self):
        """A report held by the flood limits, reviewed: it takes its normal
        course and its reporter gets the receipt it did not get."""
        check_team_role(self, "editor", self.env._("release reports held for review"))
        held = self.filtered("intake_held")
        held._write_workflow({"intake_held": False})
        held._audit("security_report_release")
        held._send_receipt()

    def action_triage(self, outcome, duplicate_of=None, scope_class=None):
        """Record the triage outcome; out-of-scope reports get the class's reply,
        duplicates a link to the original."""
        check_team_role(self, "editor", self.env._("triage reports"))
        if outcome not in dict(OUTCOMES):
            raise UserError(self.env._("Unknown triage outcome %(outcome)s.", outcome=outcome))
        for report in self:
            if report.state not in ("new", "acknowledged", "triaged"):
                raise UserError(self.env._(
                    "%(ref)s is past triage (%(state)s).", ref=report.name,
                    state=dict(STATES)[report.state]))
            if outcome == "duplicate" and not (duplicate_of or report.duplicate_of_id):
                raise UserError(self.env._("Choose the report that %(ref)s duplicates.",
                                           ref=report.name))
            if outcome == "out_of_scope" and not (scope_class or report.scope_class_id):
                raise UserError(self.env._("Choose the out-of-scope class of %(ref)s.",
                                           ref=report.name))
            now = fields.Datetime.now()
            vals = {"state": "triaged", "triage_outcome": outcome, "triaged_date": now,
                    "intake_held": False}
            if not report.acknowledged_date:
                vals["acknowledged_date"] = now
            if duplicate_of:
                vals["duplicate_of_id"] = duplicate_of.id
            if scope_class:
                vals["scope_class_id"] = scope_class.id
            if outcome in CLOSING_OUTCOMES:
                vals.update(state="closed", closed_date=now)
            report._write_workflow(vals)
            report._reply_triage()
        self._update_sla_flags()
        self._audit("security_report_triage", {"outcome": outcome})

    def action_triage_valid(self):
        return self.action_triage("valid")

    def action_triage_needs_info(self):
        return self.action_triage("needs_info")

    def action_triage_duplicate(self):
        return self.action_triage("duplicate")

    def action_triage_out_of_scope(self):
        return self.action_triage("out_of_scope")

    def action_triage_not_reproducible(self):
        return self.action_triage("not_reproducible")

    def action_triage_informative(self):
        return self.action_triage("informative")

    def action_start_remediation(self):
        self._move("remediation", ("triaged",), require_valid=True)

    def action_resolve(self):
        self._move("resolved", ("triaged", "remediation"), require_valid=True,
                   date_field="resolved_date")

    def action_close(self):
        self._move("closed", ("triaged", "remediation", "resolved"), date_field="closed_date")

    def _move(self, state, sources, require_valid=False, date_field=None):
        check_team_role(self, "editor", self.env._("move reports through remediation"))
        for report in self:
            if report.state not in sources:
                raise UserError(self.env._(
                    "%(ref)s cannot go from %(from)s to %(to)s.", ref=report.name,
                    **{"from": dict(STATES)[report.state], "to": dict(STATES)[state]}))
            if require_valid and report.triage_outcome != "valid":
                raise UserError(self.env._("Only a report triaged as valid goes into remediation."))
        vals = {"state": state}
        if date_field:
            vals[date_field] = fields.Datetime.now()
        self._write_workflow(vals)

    # ----------------------------------------------------------------- business
    def _reply_triage(self):
        """Tell the reporter (a public reply, which followers receive by e-mail)."""
        self.ensure_one()
        if self.triage_outcome == "out_of_scope" and self.scope_class_id:
            body = self.scope_class_id.reply
        elif self.triage_outcome == "duplicate":
            body = self.env._("Thank you. This issue was already reported to us (%(ref)s); "
                              "we handle it there.", ref=self.duplicate_of_id.name)
        elif self.triage_outcome == "needs_info":
            body = self.env._("Thank you. We need more information to reproduce the issue: "
                              "please reply with the exact steps, versions and results.")
        elif self.triage_outcome == "valid":
            body = self.env._("Thank you. We confirmed the vulnerability and are working on a "
                              "correction; we will ask you to review the advisory.")
        else:
            body = self.env._("Thank you for your report. After triage we concluded: %(outcome)s.",
                              outcome=dict(OUTCOMES)[self.triage_outcome])
        self.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_comment")

    def _send_receipt(self, email=None):
        """The automatic acknowledgement with the reference (not the SLA
        acknowledgement, which is a person's). `email`: the address of an
        anonymous reporter, used for this mail only and not kept on the report.
        Anyone can put anyone's address in a From or the form: the receipt
        carries nothing of the report but its reference (the template), and
        an address gets a few an hour at most."""
        template = self.env.ref("security_disclosure.mail_template_report_receipt",
                                raise_if_not_found=False)
        # sudo: the receipts are counted for visitors and e-mail senders
        Intake = self.env["security.report.intake"].sudo()
        for report in self:
            email_to = email or report.reporter_email
            if template and email_to and Intake._admit_receipt(email_to):
                # sudo: the sender is the public user or the mail gateway; the
                # recipient is the reporter's own address on this report only
                template.sudo().send_mail(report.id, email_values={
                    "email_to": email_to, "recipient_ids": []})

    def _update_sla_flags(self, now=None):
        now = now or fields.Datetime.now()
        for report in self:
            ack_late = (report.acknowledged_date or now) > report.ack_deadline
            triage_late = (report.triaged_date or now) > report.triage_deadline
            vals = {}
            if ack_late != report.ack_breached:
                vals["ack_breached"] = ack_late
            if triage_late != report.triage_breached:
                vals["triage_breached"] = triage_late
            if vals:
                # sudo: SLA flags follow the clock, whoever's action moved it
                report.sudo()._write_workflow(vals)

    @api.model
    def _cron_check_sla(self):
        """Flag late reports and alert once per report and deadline; reports
        held for review (a flood) in one alert, not one each."""
        now = fields.Datetime.now()
        open_reports = self.search([("state", "in", ("new", "acknowledged"))])
        open_reports._update_sla_flags(now)
        held = open_reports.filtered("intake_held")
        late_held = held.filtered(lambda r: r.ack_breached and "ack" not in (r.sla_alerted or ""))
        if late_held:
            self._alert_held_overdue(late_held)
            for report in late_held:
                alerted = set((report.sla_alerted or "").split(",")) | {"ack"}
                report._write_workflow({"sla_alerted": ",".join(sorted(a for a in alerted if a))})
        for report in open_reports - held:
            alerted = set((report.sla_alerted or "").split(","))
            for kind, late in (("ack", report.ack_breached and report.state == "new"),
                               ("triage", report.triage_breached)):
                if late and kind not in alerted:
                    report._alert_overdue(kind)
                    alerted.add(kind)
                    report._write_workflow({"sla_alerted": ",".join(sorted(a for a in alerted if a))})

    def _alert_overdue(self, kind):
        self.ensure_one()
        deadline = self.ack_deadline if kind == "ack" else self.triage_deadline
        what = self.env._("acknowledged") if kind == "ack" else self.env._("triaged")
        title = self.env._("Vulnerability report %(ref)s is overdue", ref=self.name)
        message = self.env._("%(ref)s was not %(what)s by its deadline (%(deadline)s UTC).",
                             ref=self.name, what=what, deadline=deadline)
        if "audit.alert" in self.env:
            self.env["audit.alert"].raise_alert(
                f"security_report_{kind}_overdue", title, message, severity="warning",
                key=f"{self.name}:{kind}")
        team = self.env.ref("security_disclosure.group_security_team").users.filtered(
            lambda u: u.security_role in ("editor", "admin", "owner"))
        for user in team[:10]:
            self.activity_schedule("mail.mail_activity_data_todo", user_id=user.id,
                                   summary=title, note=message)

    @api.model
    def _alert_held_overdue(self, reports):
        title = self.env._("%(count)s held vulnerability reports are overdue", count=len(reports))
        message = self.env._(
            "%(count)s reports held for review (they arrived during a flood) were not "
            "acknowledged by their deadline. Review them with the filter Held for review.",
            count=len(reports))
        _logger.warning("%s", message)
        if "audit.alert" in self.env:
            self.env["audit.alert"].raise_alert("security_report_held_overdue", title, message,
                                                severity="warning")

    def _audit(self, action, details=None):
        if "audit.event" in self.env:
            for report in self:
                self.env["audit.event"].log(
                    "resource_change", action, model=self._name, res_id=report.id,
                    res_name=report.name, details=details or {})

    @api.model
    def _get_thread_with_access(self, thread_id, mode="read", **kwargs):
        """Chatter routes (/mail/thread/data, /mail/thread/messages...) reach a
        report through the record rules only: portal's token or signed hash
        would return it with sudo, and its activities, attachments, followers
        and scheduled messages with it. The reporter's token opens the report's
        portal page, which shows the public replies."""
        thread = self.browse(thread_id)
        if thread.exists() and thread.sudo(False).has_access(mode):
            return thread
        return self.browse()

    def _portal_comment(self, body, partner):
        """A comment of the reporter from the portal (plain text, escaped)."""
        self.ensure_one()
        text = strip_html(body or "")
        if not text:
            raise ValidationError(self.env._("Write a comment first."))
        if len(text) > MAX_DESCRIPTION:
            raise ValidationError(self.env._(
                "The comment is longer than %(max)s characters: shorten it or send it in parts.",
                max=MAX_DESCRIPTION))
        return self.message_post(body=text, author_id=partner.id, message_type="comment",
                                 subtype_xmlid="mail.mt_comment")


def _plain(text):
    """Text as received, with its line ends normalised."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _plain_text(vals):
    """Never store markup from an untrusted source as such; a title is one line."""
    if vals.get("title"):
        vals["title"] = one_line(vals["title"])
    if vals.get("description"):
        vals["description"] = strip_html(vals["description"])
