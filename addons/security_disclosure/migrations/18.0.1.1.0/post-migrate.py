"""Contacts the intake created before it flagged them become the team's:
the reporters of the form's and the e-mail alias's reports who have no user
and were created with their report (within a minute of it). A contact that
existed before its report (an e-mail sender the gateway matched to a known
contact, in earlier versions) is a business contact: it stays as it was."""


def migrate(cr, version):
    cr.execute("""
        UPDATE res_partner partner SET security_intake_contact = TRUE
          FROM security_report report
         WHERE report.reporter_partner_id = partner.id
           AND report.channel IN ('web', 'email')
           AND partner.create_date BETWEEN report.create_date - interval '1 minute'
                                       AND report.create_date + interval '1 minute'
           AND NOT EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = partner.id)
           AND NOT EXISTS (SELECT 1 FROM res_partner child WHERE child.parent_id = partner.id)
    """)
