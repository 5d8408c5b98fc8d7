import contextvars

from odoo import api, models

from odoo.addons.security_roles import actor

from .team import CONFIDENTIAL_MODELS, refuse, team_level

# Set while the documents' own subscription (message_subscribe, a post, a
# creation) adds followers: it decides who may follow, and for advisories
# admits team members only before publication.
_SUBSCRIBING = contextvars.ContextVar("security_disclosure_subscribing", default=False)
WHO_FOLLOWS_WHAT = ("res_model", "res_id", "partner_id")


class MailFollowers(models.Model):
    """A follower receives every message of a document by e-mail. Core lets
    Settings create follower records directly (and its record rules let anyone
    add their own contact): on reports and advisories, followers come from
    the documents' own subscription only, or from a team member."""
    _inherit = "mail.followers"

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("res_model") in CONFIDENTIAL_MODELS for vals in vals_list):
            self._security_check_following("create")
        return super().create(vals_list)

    def write(self, vals):
        # sudo: the followed document decides, whoever may read the follower
        if set(WHO_FOLLOWS_WHAT) & set(vals) and (
                vals.get("res_model") in CONFIDENTIAL_MODELS
                or self.sudo().filtered(lambda f: f.res_model in CONFIDENTIAL_MODELS)):
            self._security_check_following("write")
        return super().write(vals)

    def _security_check_following(self, operation):
        if _SUBSCRIBING.get() or team_level(self.env):
            return
        refuse(self, self.env._(
            "Only members of the Security team add followers to vulnerability reports and "
            "advisories: a follower receives every message."), operation)

    @api.model
    def _insert_followers(self, *args, **kwargs):
        with actor.flag(_SUBSCRIBING):
            return super()._insert_followers(*args, **kwargs)
