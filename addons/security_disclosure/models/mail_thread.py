from odoo import api, models
from odoo.tools import email_normalize

from ..lib import intake
from .security_report import INTAKE_DECISION


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        """An e-mail that would open a vulnerability report passes the
        intake's flood limits first, per sender address and per hour, as the
        form does per network: refused, it opens nothing and its sender gets
        nothing back (the refusal is logged); past the hourly cap, the report
        is held for review. The e-mail's other routes go on. One e-mail opens
        one report at most, even when sent to several of their aliases."""
        kept, decided = [], False
        for route in routes or ():
            if route[0] == "security.report" and not route[1]:
                if decided:
                    continue
                decided = True
                decision = self.env["security.report"]._intake_admit(
                    "email", email_normalize(message_dict.get("email_from") or ""))
                if decision == intake.REFUSE:
                    continue
                message_dict[INTAKE_DECISION] = decision
            kept.append(route)
        return super()._message_route_process(message, message_dict, kept)
