"""The transient wizard that showed renewed recovery codes is gone. Odoo
deletes its model but keeps its table (a model no longer in the registry is
not dropped): the table goes here, with any codes still in it."""
from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(SQL("DROP TABLE IF EXISTS auth_recovery_codes_wizard"))
