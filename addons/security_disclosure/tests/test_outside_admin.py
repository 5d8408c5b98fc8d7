"""A workspace Admin outside the Security team, over XML-RPC, against each
decision that is the team's (its Admins, the Owner): the module's aliases,
templates and sequences, who is linked to a contact that receives advisories
or reported a vulnerability, whose account it takes over; and a team Editor
against opening a released advisory to someone else. Each test checks the
outcome: nothing of the embargoed advisory reaches the Admin or the accounts
it controls, and the refusals are audited."""
import xmlrpc.client

from odoo import models
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.base.controllers.rpc import RPC_FAULT_CODE_ACCESS_ERROR
from odoo.addons.security_roles.tests.common import password_logins_for_admins

from .common import SECRET, disclosure_users, make_advisory, make_report, release, secret_reaching

TEAM_DECIDES = "Only an Admin of the Security team or the Owner can"
MALLORY = "mallory@evil.example"


def rpc_sample(record, name, field):
    """A value for `name` that differs from the record's, as XML-RPC carries it."""
    current = record.sudo()[name]
    if field.type == "boolean":
        return not current
    if field.type in ("integer", "float", "monetary"):
        return (current or 0) + 7
    if field.type == "selection":
        values = [value for value, _label in field._description_selection(record.env)]
        return next(value for value in values if value != current)
    if field.type in ("date", "datetime"):
        return "2031-01-02" if field.type == "date" else "2031-01-02 03:04:05"
    if field.type == "many2one":
        other = record.env[field.comodel_name].sudo().search([("id", "!=", current.id)], limit=1)
        return other.id or False
    if field.type == "one2many":
        return [(5, 0, 0)]
    if field.type == "many2many":
        return [(6, 0, [])] if current else [(6, 0, record.env[field.comodel_name].sudo().search(
            [], limit=1).ids)]
    if field.type == "html":
        return f"<p>{MALLORY}</p>"
    if name == "alias_defaults":
        return "{'reporter_partner_id': 1}"
    return MALLORY if any(key in name for key in ("email", "partner", "reply")) else f"x-{name}"


def rpc_writable(record):
    """Every field an RPC write reaches: stored, inverse or related."""
    return [(name, field) for name, field in sorted(record._fields.items())
            if name not in models.MAGIC_COLUMNS and name != "display_name"
            and (field.store or field.inverse or field.related)]


class OutsideAdminCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        password_logins_for_admins(cls.env)
        disclosure_users(cls)
        cls.out_admin.email = MALLORY
        # a portal account of the Admin's own, to read with what it would gain
        cls.mallory = new_test_user(cls.env, "mallory.portal", "base.group_portal",
                                    password="mallory-portal-pass",
                                    email="mallory@portal.evil.example")
        cls.report = make_report(cls.env, cls.reporter.partner_id)
        cls.advisory = make_advisory(cls.env(user=cls.team_editor), cls.report)

    def rpc(self, user, password, model, method, *args, **kw):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, user.id, password, model,
                                             method, list(args), kw)

    def admin_rpc(self, model, method, *args, **kw):
        return self.rpc(self.out_admin, "out-admin-pass", model, method, *args, **kw)

    def assertRefused(self, call, *args, msg=None, reason=TEAM_DECIDES,
                      code=RPC_FAULT_CODE_ACCESS_ERROR, **kw):
        """`code` None: a core flow that wraps the refusal in its own error."""
        with self.assertRaises(xmlrpc.client.Fault, msg=msg) as caught:
            call(*args, **kw)
        if code is not None:
            self.assertEqual(caught.exception.faultCode, code, msg)
        reasons = (reason,) if isinstance(reason, str) else reason
        self.assertTrue(any(text in caught.exception.faultString for text in reasons),
                        f"{msg}: {caught.exception.faultString}")

    def assertDeniedAudited(self, records, method, *args, **kw):
        """The same refusal, called in-process: its denial event is committed on
        a cursor of its own (an RPC's test cursor rolls it back with the call)."""
        if "audit.event" not in self.env:
            return
        Event = self.env["audit.event"].sudo()
        domain = [("outcome", "=", "denied"), ("uid", "=", records.env.uid)]
        before = Event.search_count(domain)
        try:  # not assertRaises: its savepoint would roll the denial event back
            getattr(records, method)(*args, **kw)
        except AccessError:
            pass
        else:
            self.fail(f"{records._name}.{method} allowed")
        self.assertGreater(Event.search_count(domain), before, f"{records._name}.{method}")

    def assertNothingReached(self, *users):
        """Nothing of the embargoed advisory reaches the Admin: no mail or
        message to it, its portal account or `users`; none of them finds it."""
        accounts = self.out_admin | self.mallory
        for user in users:
            accounts |= user
        leaks = secret_reaching(self.env, accounts.partner_id, [MALLORY, "evil.example"])
        self.assertFalse(leaks)
        for user in accounts:
            env = self.env(user=user)
            self.assertFalse(env["security.advisory"].search([]), user.login)
            self.assertFalse(env["security.report"].search([]), user.login)


@tagged("post_install", "-at_install")
class TestOutsideAdmin(OutsideAdminCase):

    def test_aliases_templates_sequences_are_the_teams(self):
        """Every alias, template and sequence of the module's data, every field
        an RPC write reaches; new ones aimed at the module; then the broadcast
        reaches its recipients only."""
        data = self.env["ir.model.data"].search([
            ("module", "=", "security_disclosure"),
            ("model", "in", ["mail.alias", "mail.template", "ir.sequence"])])
        self.assertEqual(sorted(data.mapped("model")), ["ir.sequence"] * 2 + ["mail.alias"]
                         + ["mail.template"] * 3)
        records = [self.env[xmlid.model].browse(xmlid.res_id) for xmlid in data]
        bookkeeping = {("mail.alias", "alias_status")}
        for record in records:
            fields_ = rpc_writable(record)
            before = record.sudo().read([name for name, _field in fields_])
            for name, field in fields_:
                if (record._name, name) in bookkeeping:
                    continue
                self.assertRefused(self.admin_rpc, record._name, "write", record.ids,
                                   {name: rpc_sample(record, name, field)},
                                   msg=f"{record._name}.{name} ({field.type})")
            for method in ("unlink", "copy"):
                self.assertRefused(self.admin_rpc, record._name, method, record.ids,
                                   msg=f"{record._name}.{method}")
            record.invalidate_recordset()
            self.assertEqual(record.sudo().read([name for name, _field in fields_]), before)
        # Odoo's own bookkeeping on an alias stays Odoo's
        alias = self.env.ref("security_disclosure.mail_alias_security_report")
        self.admin_rpc("mail.alias", "write", alias.ids, {"alias_status": "valid"})

        def model_id(name):
            return self.env["ir.model"]._get_id(name)
        creations = {
            "alias for reports": ("mail.alias", {
                "alias_name": "reports2", "alias_model_id": model_id("security.report"),
                "alias_defaults": "{'advisory_ids': [(4, %d)]}" % self.advisory.id}),
            "alias owned by an advisory": ("mail.alias", {
                "alias_name": "adv", "alias_model_id": model_id("res.partner"),
                "alias_parent_model_id": model_id("security.advisory"),
                "alias_parent_thread_id": self.advisory.id}),
            "template on receipts": ("mail.template", {
                "name": "copy", "model_id": model_id("security.advisory.receipt"),
                "email_to": MALLORY, "body_html": "<p>x</p>"}),
            "sequence with a report code": ("ir.sequence", {
                "name": "reports", "code": "security.report", "prefix": "VR-"}),
        }
        for what, (model, vals) in creations.items():
            self.assertRefused(self.admin_rpc, model, "create", vals, msg=what)
        # what the Admin may create elsewhere cannot be pointed at the module afterwards
        partner_alias = self.admin_rpc("mail.alias", "create", {
            "alias_name": "partners", "alias_model_id": model_id("res.partner")})
        self.assertRefused(self.admin_rpc, "mail.alias", "write", [partner_alias],
                           {"alias_model_id": model_id("security.report")})
        template = self.admin_rpc("mail.template", "create", {
            "name": "Partners", "model_id": model_id("res.partner")})
        self.assertRefused(self.admin_rpc, "mail.template", "write", [template],
                           {"model_id": model_id("security.advisory.receipt")})
        sequence = self.admin_rpc("ir.sequence", "create", {"name": "Mine", "code": "mine"})
        self.assertRefused(self.admin_rpc, "ir.sequence", "write", [sequence],
                           {"code": "security.advisory"})
        # refusals are audited
        broadcast_template = self.env.ref("security_disclosure.mail_template_advisory_broadcast")
        self.assertDeniedAudited(broadcast_template.with_user(self.out_admin), "write",
                                 {"email_cc": MALLORY})
        self.assertDeniedAudited(alias.with_user(self.out_admin), "write",
                                 {"alias_defaults": "{'reporter_partner_id': 1}"})
        self.assertDeniedAudited(self.env.ref("security_disclosure.seq_security_advisory")
                                 .with_user(self.out_admin), "write", {"number_next": 1})
        # a team Admin and the Owner still maintain them (templates with code
        # are the Owner's anyway: security_roles)
        self.rpc(self.team_admin, "team-admin-pass", "mail.alias", "write", alias.ids,
                 {"alias_bounced_content": "<p>Write to us at security@ instead.</p>"})
        self.rpc(self.team_admin, "team-admin-pass", "ir.sequence", "write",
                 self.env.ref("security_disclosure.seq_security_report").ids, {"padding": 5})
        self.rpc(self.owner, "admin", "mail.template", "write", broadcast_template.ids,
                 {"email_cc": "security-archive@example.com"})
        # the outcome: the broadcast goes to its recipients (and the team's archive)
        release(self.advisory, self.team_editor, self.team_admin, self.reporter)
        mails = self.env["mail.mail"].search([("model", "=", "security.advisory.receipt")])
        self.assertEqual(mails.recipient_ids, self.recipient.partner_id)
        self.assertEqual(set(mails.mapped("email_cc")), {"security-archive@example.com"})
        self.assertNothingReached()

    def _contacts_with_access(self):
        """Contacts through whom a user would read something: a recipient
        without an account yet, the subscriber company, a former recipient who
        still holds a receipt, a reporter who wrote from the web form."""
        colleague = self.env["res.partner"].create({
            "name": "Colleague", "email": "colleague@subscriber.example",
            "parent_id": self.customer.id, "advisory_recipient": True})
        holder = self.env["res.partner"].create({"name": "Holder", "email": "h@former.example"})
        eve = self.env["res.partner"].create({"name": "Eve", "email": "eve@researcher.example"})
        make_report(self.env, eve, title="Eve's report")
        release(self.advisory, self.team_editor, self.team_admin, self.reporter)
        self.env["security.advisory.receipt"].create(
            {"advisory_id": self.advisory.id, "partner_id": holder.id})
        self.assertIn(colleague, self.advisory.receipt_ids.partner_id)
        return {"recipient": colleague, "subscriber": self.customer, "receipt holder": holder,
                "reporter": eve}

    def test_linking_users_to_recipients_and_reporters_is_the_teams(self):
        contacts = self._contacts_with_access()
        portal = self.env.ref("base.group_portal").id
        for who, partner in contacts.items():
            self.assertRefused(self.admin_rpc, "res.users", "create", {
                "name": "Mallory", "login": f"mallory-{partner.id}", "partner_id": partner.id,
                "groups_id": [(6, 0, [portal])]}, msg=f"new user on the {who}")
            self.assertRefused(self.admin_rpc, "res.users", "write", self.mallory.ids,
                               {"partner_id": partner.id}, msg=f"own user moved to the {who}")
            self.assertRefused(self.admin_rpc, "res.partner", "write", partner.ids,
                               {"user_ids": [(4, self.mallory.id)]}, msg=f"{who}'s users")
            self.assertRefused(self.admin_rpc, "res.partner", "write", partner.ids, {
                "user_ids": [(0, 0, {"name": "M", "login": f"m-{partner.id}",
                                     "groups_id": [(6, 0, [portal])]})]},
                               msg=f"user created from the {who}")
            # the portal wizard creates the user (its invitation goes to the
            # contact); sign-up wraps the refusal (of either guard) in its own error
            wizard = self.admin_rpc("portal.wizard", "create",
                                    {"partner_ids": [(6, 0, partner.ids)]})
            line = self.admin_rpc("portal.wizard", "read", [wizard], ["user_ids"])[0]["user_ids"]
            with mute_logger("odoo.http"):  # sign-up's own error is logged as a crash
                self.assertRefused(self.admin_rpc, "portal.wizard.user", "action_grant_access",
                                   line, reason="Security team", code=None,
                                   msg=f"portal access for the {who}")
            # merging moves users, receipts and reports in SQL, either way
            mine = self.mallory.partner_id
            for src, dst in ((mine, partner), (partner, mine)):
                merge = self.admin_rpc("base.partner.merge.automatic.wizard", "create", {
                    "partner_ids": [(6, 0, (src | dst).ids)], "dst_partner_id": dst.id})
                self.assertRefused(self.admin_rpc, "base.partner.merge.automatic.wizard",
                                   "action_merge", [merge], msg=f"merge with the {who}")
        # its own contact put under a subscriber becomes one the team may mark
        self.assertRefused(self.admin_rpc, "res.partner", "write", self.mallory.partner_id.ids,
                           {"parent_id": self.customer.id})
        self.assertRefused(self.admin_rpc, "res.partner", "write", self.customer.ids,
                           {"child_ids": [(4, self.mallory.partner_id.id)]})
        # refusals are audited
        colleague = contacts["recipient"]
        self.assertDeniedAudited(self.env["res.users"].with_user(self.out_admin), "create", {
            "name": "Mallory", "login": "mallory.audited", "partner_id": colleague.id})
        self.assertDeniedAudited(self.mallory.with_user(self.out_admin), "write",
                                 {"partner_id": colleague.id})
        # the outcome: nobody but the team is linked to them, nothing reached the Admin
        linked = self.env["res.users"].with_context(active_test=False).search(
            [("partner_id", "in", [p.id for p in contacts.values()])])
        self.assertFalse(linked)
        self.assertEqual(self.mallory.partner_id.parent_id.id, False)
        self.assertNothingReached()
        # a team Admin gives the recipient its portal access
        wizard = self.rpc(self.team_admin, "team-admin-pass", "portal.wizard", "create",
                          {"partner_ids": [(6, 0, colleague.ids)]})
        line = self.rpc(self.team_admin, "team-admin-pass", "portal.wizard", "read", [wizard],
                        ["user_ids"])[0]["user_ids"]
        self.rpc(self.team_admin, "team-admin-pass", "portal.wizard.user", "action_grant_access",
                 line)
        self.assertTrue(colleague.with_context(active_test=False).user_ids)

    def test_signup_token_of_a_reporter_opens_no_account(self):
        """With sign-up open to everyone, an internal user obtains a token for
        any contact without a user; signing up with it would link a new user
        to the reporter's contact (who reads its report and the draft)."""
        eve = self._contacts_with_access()["reporter"]
        self.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")
        params = eve.with_user(self.out_admin).signup_get_auth_param()
        token = params[eve.id]["auth_signup_token"]
        page = self.url_open(f"/web/signup?token={token}")
        self.assertEqual(page.status_code, 200)
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = self.url_open("/web/signup", data={
            "csrf_token": csrf, "token": token, "login": eve.email, "name": "Eve",
            "password": "mallory-signup-pass", "confirm_password": "mallory-signup-pass"})
        refused = "Could not create a new account" in response.text
        self.assertTrue(refused and TEAM_DECIDES in response.text, "the sign-up is refused")
        self.assertFalse(eve.with_context(active_test=False).user_ids)
        self.assertFalse(self.xmlrpc_common.authenticate(
            self.env.cr.dbname, eve.email, "mallory-signup-pass", {}))
        self.assertNothingReached()

    def test_recipient_and_reporter_accounts_not_taken_over(self):
        """The Admin holds every group of a portal user (security_roles lets it
        change its credentials): a recipient's or a reporter's are the team's."""
        self._contacts_with_access()
        for user, password in ((self.recipient, "recipient-pass"),
                               (self.reporter, "reporter-pass")):
            for vals in ({"password": "taken-over-pass"}, {"login": "taken.over"},
                         {"email": MALLORY}):
                self.assertRefused(self.admin_rpc, "res.users", "write", user.ids, vals,
                                   msg=f"{user.login}: {list(vals)}")
            self.assertRefused(self.admin_rpc, "res.partner", "write", user.partner_id.ids,
                               {"email": MALLORY}, reason="Security team",
                               msg=f"{user.login}: contact's e-mail")
            user.invalidate_recordset()
            self.assertEqual(self.xmlrpc_common.authenticate(
                self.env.cr.dbname, user.login, password, {}), user.id)
            self.assertNotEqual(user.email, MALLORY)
        self.assertDeniedAudited(self.recipient.with_user(self.out_admin), "write",
                                 {"password": "taken-over-pass"})
        self.assertNothingReached()
        # the team's Admins and the Owner still help them
        self.rpc(self.team_admin, "team-admin-pass", "res.users", "write", self.reporter.ids,
                 {"email": "alice@new.researcher.example"})

    def test_editor_opens_no_released_advisory_to_someone_else(self):
        """Creating, copying or re-assigning a report linked to a released
        advisory, from either side and through the mail gateway: an Admin's
        call, since the reporter reads the advisory in the portal."""
        release(self.advisory, self.team_editor, self.team_admin, self.reporter)
        outsider = self.other_reporter.partner_id
        other = make_report(self.env, outsider, title="Another issue")

        def editor_rpc(model, method, *args, **kw):
            return self.rpc(self.team_editor, "team-editor-pass", model, method, *args, **kw)
        email = (f"From: Bob <{outsider.email}>\nTo: security@example.com\n"
                 f"Subject: Same issue\nMessage-Id: <bob-1@else.example>\n\nDetails")
        attempts = {
            "new report": ("security.report", "create", {
                "title": "Mine too", "reporter_partner_id": outsider.id,
                "advisory_ids": [(4, self.advisory.id)]}),
            "copy, new reporter": ("security.report", "copy", self.report.ids,
                                   {"reporter_partner_id": outsider.id}),
            "copy": ("security.report", "copy", self.report.ids),
            "re-assigned": ("security.report", "write", self.report.ids,
                            {"reporter_partner_id": outsider.id}),
            "linked": ("security.report", "write", other.ids,
                       {"advisory_ids": [(4, self.advisory.id)]}),
            "linked from the advisory": ("security.advisory", "write", self.advisory.ids,
                                         {"report_ids": [(4, other.id)]}),
            "by e-mail": ("mail.thread", "message_process", "security.report", email,
                          {"advisory_ids": [(6, 0, self.advisory.ids)]}),
        }
        # (a copy also carries the report's state: refused as such already)
        workflow = "are set by its workflow"
        for what, (model, method, *args) in attempts.items():
            reason = "Admin" if model == "security.advisory" else (
                (TEAM_DECIDES, workflow) if method == "copy" else TEAM_DECIDES)
            self.assertRefused(editor_rpc, model, method, *args, reason=reason, msg=what)
        # nor does the mail gateway do it for an Admin outside the team
        self.assertRefused(self.admin_rpc, "mail.thread", "message_process", "security.report",
                           email, {"advisory_ids": [(6, 0, self.advisory.ids)],
                                   "reporter_partner_id": self.mallory.partner_id.id})
        self.assertDeniedAudited(self.env["security.report"].with_user(self.team_editor),
                                 "create", {"title": "Audited", "reporter_partner_id": outsider.id,
                                            "advisory_ids": [(4, self.advisory.id)]})
        # the outcome: the advisory still reaches its reporter and recipients only
        self.assertEqual(self.advisory.report_ids, self.report)
        self.assertEqual(self.report.reporter_partner_id, self.reporter.partner_id)
        readers = self.env["security.report"].search(
            [("advisory_ids", "=", self.advisory.id)]).reporter_partner_id
        self.assertEqual(readers, self.reporter.partner_id)
        self.assertFalse(self.advisory.with_user(self.other_reporter).has_access("read"))
        self.authenticate("other.reporter", "other-reporter-pass")
        page = self.url_open(f"/my/security/advisories/{self.advisory.id}")
        self.assertNotIn(SECRET, page.text)
        self.assertFalse(secret_reaching(self.env, outsider))
        self.assertNothingReached()
        # while a draft stays the Editor's to prepare, and a team Admin decides
        draft = make_advisory(self.env(user=self.team_editor), other, title="Draft")
        editor_rpc("security.report", "write", other.ids, {"advisory_ids": [(4, draft.id)]})
        self.rpc(self.team_admin, "team-admin-pass", "security.report", "write", other.ids,
                 {"advisory_ids": [(4, self.advisory.id)]})
        self.assertTrue(self.advisory.with_user(self.other_reporter).has_access("read"))

    def test_team_members_accounts_not_taken_over(self):
        """security_roles' rule: credentials change by their user or by someone
        holding every group they hold; the Security team is a group an Admin
        outside it does not hold."""
        release(self.advisory, self.team_editor, self.team_admin, self.reporter)
        dominance = "someone who holds every group that user holds"
        members = {self.team_viewer: "team-viewer-pass", self.team_editor: "team-editor-pass",
                   self.team_admin: "team-admin-pass"}
        for member, password in members.items():
            attempts = [
                ("res.users", "write", member.ids, {"password": "taken-over-pass"}),
                ("res.users", "write", member.ids, {"login": "taken.over"}),
                ("res.users", "write", member.ids, {"email": MALLORY}),
                ("res.users", "write", member.ids, {"partner_id": self.mallory.partner_id.id}),
                ("res.partner", "write", member.partner_id.ids, {"email": MALLORY}),
            ]
            if "action_totp_disable" in self.env["res.users"]:
                attempts.append(("res.users", "action_totp_disable", member.ids))
            for model, method, *args in attempts:
                self.assertRefused(self.admin_rpc, model, method, *args, reason=dominance,
                                   msg=f"{member.login}: {method} {args[1:]}")
            member.invalidate_recordset()
            self.assertEqual(self.xmlrpc_common.authenticate(
                self.env.cr.dbname, member.login, password, {}), member.id)
            self.assertNotIn(MALLORY, member.email)
        self.assertDeniedAudited(self.team_admin.with_user(self.out_admin), "write",
                                 {"password": "taken-over-pass"})
        self.assertNothingReached()

    def test_following_reports_and_advisories_is_the_teams(self):
        """A follower receives every message: Settings may create follower
        records in core, but not on reports and advisories."""
        subtypes = [self.env.ref("mail.mt_comment").id, self.env.ref("mail.mt_note").id]
        for document in (self.report, self.advisory):
            self.assertRefused(self.admin_rpc, "mail.followers", "create", {
                "res_model": document._name, "res_id": document.id,
                "partner_id": self.out_admin.partner_id.id, "subtype_ids": [(6, 0, subtypes)]},
                reason="Only members of the Security team add followers", msg=document._name)
        # nor moved onto one: the Admin's own follower record of another document
        own = self.env["mail.followers"].search([("partner_id", "=", self.out_admin.partner_id.id)],
                                                limit=1)
        if own:
            self.assertRefused(self.admin_rpc, "mail.followers", "write", own.ids, {
                "res_model": "security.advisory", "res_id": self.advisory.id},
                reason="Only members of the Security team add followers")
        self.assertDeniedAudited(self.env["mail.followers"].with_user(self.out_admin), "create", {
            "res_model": "security.report", "res_id": self.report.id,
            "partner_id": self.out_admin.partner_id.id})
        # the team's work reaches its followers only
        release(self.advisory, self.team_editor, self.team_admin, self.reporter)
        self.advisory.with_user(self.team_editor).message_post(
            body=f"Comment {SECRET}", message_type="comment", subtype_xmlid="mail.mt_comment")
        self.report.with_user(self.team_editor).message_post(
            body=f"Note {SECRET}", subtype_xmlid="mail.mt_note")
        self.assertNothingReached()
        # the reporter follows its report, and a team member adds a colleague
        self.assertIn(self.reporter.partner_id, self.report.message_partner_ids)
        self.report.with_user(self.team_editor).message_subscribe(self.team_viewer.partner_id.ids)
        self.assertIn(self.team_viewer.partner_id, self.report.message_partner_ids)

    def test_sudo_routes_act_for_their_principal(self):
        """The team's checks follow who is authenticated, not the sudo() of the
        route that reaches them: the mail gateway creates records as sudo."""
        email = ("From: Mallory <mallory@evil.example>\nTo: security@example.com\n"
                 "Subject: Fixed\nMessage-Id: <mallory-2@evil.example>\n\nNothing to see")
        self.assertRefused(self.admin_rpc, "mail.thread", "message_process", "security.advisory",
                           email, {"title": "Fixed", "state": "public",
                                   "published_date": "2026-01-01 00:00:00",
                                   "report_ids": [(6, 0, self.report.ids)]},
                           reason="Only a member of the Security team")
        self.assertEqual(self.env["security.advisory"].search([]), self.advisory)
        self.assertNotIn("Alice Finder", self.url_open("/security/hall-of-fame").text,
                         "an unpublished report's reporter is credited nowhere")
        # in-process, sudo() on the Admin's environment is no team role either
        with self.assertRaisesRegex(AccessError, "Only a member of the Security team"):
            self.advisory.with_user(self.out_admin).sudo().write({"title": "Defaced"})
        self.assertDeniedAudited(self.advisory.with_user(self.out_admin).sudo(), "write",
                                 {"title": "Defaced"})
        # a recipient saves its portal details (the address re-sent as it is),
        # but readdressing the advisories stays the team's
        self.authenticate("recipient.portal", "recipient-pass")
        details = {"name": "Recipient", "phone": "+1 555 0100", "street": "1 Main St",
                   "city": "Brussels", "country_id": str(self.env.ref("base.be").id)}
        page = self.url_open("/my/account")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        saved = self.url_open("/my/account", data=dict(
            details, csrf_token=csrf, email=self.recipient.partner_id.email),
            allow_redirects=False)
        self.assertEqual(saved.status_code, 303)
        self.assertEqual(self.recipient.partner_id.street, "1 Main St")
        moved = self.url_open("/my/account", data=dict(
            details, csrf_token=csrf, email=MALLORY), allow_redirects=False)
        self.assertNotEqual(moved.status_code, 303)
        self.recipient.partner_id.invalidate_recordset()
        self.assertEqual(self.recipient.partner_id.email, "ops@subscriber.example")
