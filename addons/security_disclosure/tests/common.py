from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user

TEAM = "security_disclosure.group_security_team"
SECRET = "EMBARGOED-SECRET-7f3a9"
# The classic reflected XSS (6.1) and the all-high network vector of CVSS 4.0 (9.3).
CVSS31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"
CVSS40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def disclosure_users(cls):
    """Team members per role, outsiders per role, portal users."""
    env = cls.env
    cls.team_viewer = new_test_user(env, "team.viewer", f"security_roles.group_role_viewer,{TEAM}",
                                    password="team-viewer-pass")
    cls.team_editor = new_test_user(env, "team.editor", f"security_roles.group_role_editor,{TEAM}",
                                    password="team-editor-pass")
    cls.team_admin = new_test_user(env, "team.admin", f"security_roles.group_role_admin,{TEAM}",
                                   password="team-admin-pass")
    cls.out_viewer = new_test_user(env, "out.viewer", "security_roles.group_role_viewer",
                                   password="out-viewer-pass")
    cls.out_editor = new_test_user(env, "out.editor", "security_roles.group_role_editor",
                                   password="out-editor-pass")
    cls.out_admin = new_test_user(env, "out.admin", "security_roles.group_role_admin",
                                  password="out-admin-pass")
    # The initial admin user is the Owner; not a team member unless added.
    cls.owner = env.ref("base.user_admin")
    cls.customer = env["res.partner"].create({
        "name": "Subscriber Ltd", "is_company": True, "email": "it@subscriber.example",
        "advisory_subscriber": True,
        "advisory_contract_end": fields.Date.today() + timedelta(days=365)})
    cls.recipient = new_test_user(env, "recipient.portal", "base.group_portal",
                                  password="recipient-pass", email="ops@subscriber.example")
    cls.recipient.partner_id.write({"parent_id": cls.customer.id, "advisory_recipient": True})
    cls.expired = env["res.partner"].create({
        "name": "Former Customer", "is_company": True, "email": "it@former.example",
        "advisory_subscriber": True,
        "advisory_contract_end": fields.Date.today() - timedelta(days=1)})
    cls.stranger = new_test_user(env, "stranger.portal", "base.group_portal",
                                 password="stranger-pass", email="ops@former.example")
    cls.stranger.partner_id.write({"parent_id": cls.expired.id, "advisory_recipient": True})
    cls.reporter = new_test_user(env, "reporter.portal", "base.group_portal",
                                 password="reporter-pass", email="alice@researcher.example",
                                 name="Alice Finder")
    cls.other_reporter = new_test_user(env, "other.reporter", "base.group_portal",
                                       password="other-reporter-pass", email="bob@else.example")


def make_report(env, partner, **vals):
    return env["security.report"].create(dict({
        "title": "Stored XSS in the chatter", "description": "Steps...",
        "reporter_partner_id": partner.id, "reporter_email": partner.email,
        "reporter_name": partner.name, "credit_preference": "name", "channel": "web"}, **vals))


def make_advisory(env, reports, **vals):
    return env["security.advisory"].create(dict({
        "title": f"Stored XSS {SECRET}", "component": "mail", "affected_versions": "17.0, 18.0",
        "fixed_versions": "18.0.1", "cwe_id": "CWE-79", "cwe_name": "Cross-site Scripting",
        "cvss31_vector": CVSS31, "cvss40_vector": CVSS40,
        "summary": f"Summary {SECRET}", "impact": "Session theft", "workaround": "None",
        "solution": "Update", "report_ids": [(6, 0, reports.ids)]}, **vals))


def broadcast(advisory, user):
    """What the Admin clicks: Broadcast privately, then confirm the list."""
    action = advisory.with_user(user).action_broadcast()
    wizard = advisory.env[action["res_model"]].with_user(user).browse(action["res_id"])
    wizard.action_confirm()
    return wizard


def release(advisory, team_editor, team_admin, reporter):
    """Draft to private broadcast, the way the team does it."""
    advisory.with_user(team_editor).action_send_to_reporter()
    advisory._reporter_approve(reporter.partner_id)
    advisory.with_user(team_admin).action_approve()
    return broadcast(advisory, team_admin)


def secret_reaching(env, partners, emails=()):
    """Queued mails and messages carrying SECRET to these partners or addresses."""
    env = env(su=True)
    mails = env["mail.mail"].search(["|", ("body_html", "ilike", SECRET),
                                     ("subject", "ilike", SECRET)])
    mails = mails.filtered(lambda mail: mail.recipient_ids & partners or any(
        email in f"{mail.email_to or ''} {mail.email_cc or ''}" for email in emails))
    messages = env["mail.message"].search(["|", ("body", "ilike", SECRET),
                                           ("subject", "ilike", SECRET)])
    messages = messages.filtered(
        lambda message: (message.partner_ids | message.notified_partner_ids) & partners)
    return [(mail._name, mail.id, mail.subject) for mail in mails | messages.mail_ids] + [
        (message._name, message.id, message.subject) for message in messages]
