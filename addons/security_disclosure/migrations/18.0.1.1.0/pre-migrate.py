"""The flood counter counts both channels: its rows so far are the form's."""
from odoo.tools.sql import column_exists, create_column, rename_column


def migrate(cr, version):
    if column_exists(cr, "security_report_intake", "ip"):
        rename_column(cr, "security_report_intake", "ip", "source")
        cr.execute("ALTER INDEX IF EXISTS security_report_intake__ip_index "
                   "RENAME TO security_report_intake__source_index")
        create_column(cr, "security_report_intake", "channel", "varchar")
        cr.execute("UPDATE security_report_intake SET channel = 'web'")
