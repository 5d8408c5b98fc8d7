from odoo import fields, models, tools
from odoo.tools import SQL

from ..roles import ROLE_ORDER, VIEWER_PERSONAL_MODELS
from .res_users import ROLE_SELECTION

PERMISSION_SELECTION = [
    ("all", "Yes"),
    ("restricted", "Restricted by record rules"),
    ("none", "No"),
]


class SecurityPermissionMatrix(models.Model):
    """Role × model × operation, read live from the ACLs (with the groups each
    role implies), the record rules and the Viewer's read-only restriction."""
    _name = "security.permission.matrix"
    _description = "Permission Matrix"
    _auto = False
    _order = "model, role_sequence"

    role = fields.Selection(ROLE_SELECTION, readonly=True)
    role_sequence = fields.Integer(readonly=True)
    model_id = fields.Many2one("ir.model", readonly=True)
    model = fields.Char("Technical Name", readonly=True)
    perm_read = fields.Selection(PERMISSION_SELECTION, string="Read", readonly=True)
    perm_write = fields.Selection(PERMISSION_SELECTION, string="Write", readonly=True)
    perm_create = fields.Selection(PERMISSION_SELECTION, string="Create", readonly=True)
    perm_unlink = fields.Selection(PERMISSION_SELECTION, string="Delete", readonly=True)
    rule_count = fields.Integer(string="Record Rules", readonly=True,
                                help="Record rules that apply to this role on this model.")

    def _flush_search(self, domain, fields=None, order=None, seen=None):
        # the view reads these tables: pending ORM changes must reach them first
        for model in ("ir.model.access", "ir.rule", "res.groups", "ir.model.data"):
            self.env[model].flush_model()
        return super()._flush_search(domain, fields=fields, order=order, seen=seen)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        roles = SQL(", ").join(
            SQL("(%s, %s, %s)", role, seq, f"group_role_{role}")
            for seq, role in enumerate(ROLE_ORDER))

        def perm(op):
            cell = SQL(
                "CASE WHEN NOT coalesce(acl.%(op)s, false) THEN 'none'"
                " WHEN coalesce(rules.%(op)s, 0) > 0 THEN 'restricted' ELSE 'all' END",
                op=SQL.identifier(op))
            if op == "perm_read":
                return cell
            # the Viewer's restriction is code (ir.model.access), shown here too
            return SQL("CASE WHEN r.role = 'viewer' AND NOT (m.model = ANY(%s)) THEN 'none'"
                       " ELSE %s END", sorted(VIEWER_PERSONAL_MODELS), cell)

        self.env.cr.execute(SQL("""
            CREATE OR REPLACE VIEW %(table)s AS
            WITH RECURSIVE role_def(role, seq, xmlid) AS (VALUES %(roles)s),
            role_group AS (
                SELECT rd.role, rd.seq, d.res_id AS gid
                  FROM role_def rd
                  JOIN ir_model_data d ON d.module = 'security_roles'
                                      AND d.model = 'res.groups' AND d.name = rd.xmlid
            ),
            closure(role, gid) AS (
                SELECT role, gid FROM role_group
                 UNION
                SELECT c.role, rel.hid
                  FROM closure c JOIN res_groups_implied_rel rel ON rel.gid = c.gid
            ),
            acl AS (
                SELECT rg.role, a.model_id,
                       bool_or(a.perm_read) AS perm_read, bool_or(a.perm_write) AS perm_write,
                       bool_or(a.perm_create) AS perm_create, bool_or(a.perm_unlink) AS perm_unlink
                  FROM role_group rg
                  JOIN ir_model_access a ON a.active AND (
                        a.group_id IS NULL
                        OR a.group_id IN (SELECT c.gid FROM closure c WHERE c.role = rg.role))
                 GROUP BY rg.role, a.model_id
            ),
            rules AS (
                SELECT rg.role, ru.model_id, count(*) AS total,
                       count(*) FILTER (WHERE ru.perm_read) AS perm_read,
                       count(*) FILTER (WHERE ru.perm_write) AS perm_write,
                       count(*) FILTER (WHERE ru.perm_create) AS perm_create,
                       count(*) FILTER (WHERE ru.perm_unlink) AS perm_unlink
                  FROM role_group rg
                  JOIN ir_rule ru ON ru.active AND (
                        ru.global
                        OR EXISTS (SELECT 1 FROM rule_group_rel rgr
                                    JOIN closure c ON c.gid = rgr.group_id AND c.role = rg.role
                                   WHERE rgr.rule_group_id = ru.id))
                 GROUP BY rg.role, ru.model_id
            )
            SELECT row_number() OVER (ORDER BY m.model, r.seq) AS id,
                   r.role, r.seq AS role_sequence, m.id AS model_id, m.model,
                   %(read)s AS perm_read, %(write)s AS perm_write,
                   %(create)s AS perm_create, %(unlink)s AS perm_unlink,
                   coalesce(rules.total, 0) AS rule_count
              FROM role_group r
             CROSS JOIN ir_model m
              LEFT JOIN acl ON acl.role = r.role AND acl.model_id = m.id
              LEFT JOIN rules ON rules.role = r.role AND rules.model_id = m.id
             -- models without any ACL (abstract ones) are closed to every role
             WHERE EXISTS (SELECT 1 FROM ir_model_access x WHERE x.model_id = m.id)
        """, table=SQL.identifier(self._table), roles=roles, read=perm("perm_read"),
            write=perm("perm_write"), create=perm("perm_create"), unlink=perm("perm_unlink")))
