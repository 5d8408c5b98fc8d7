"""Contacts the intake created before it flagged them (the reporters of the
form's and the e-mail alias's reports without a user) become the team's."""


def migrate(cr, version):
    cr.execute("""
        UPDATE res_partner partner SET security_intake_contact = TRUE
         WHERE partner.id IN (SELECT reporter_partner_id FROM security_report
                               WHERE channel IN ('web', 'email'))
           AND NOT EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = partner.id)
    """)
