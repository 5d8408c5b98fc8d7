from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.securitytxt import split_contacts, valid_contact


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    security_txt_contact = fields.Char(
        string="security.txt Contact", config_parameter="security_disclosure.contact",
        help="mailto: or https: URIs, comma-separated. Blank: the report form and the alias.")
    security_txt_policy = fields.Char(
        string="Disclosure policy URL", config_parameter="security_disclosure.policy_url")
    security_txt_languages = fields.Char(
        string="Preferred languages", config_parameter="security_disclosure.languages",
        default="en")
    security_txt_expires_days = fields.Integer(
        string="security.txt validity (days)", config_parameter="security_disclosure.expires_days",
        default=180)
    security_intake_max_per_hour = fields.Integer(
        string="Reports per source and hour", config_parameter="security_disclosure.max_per_hour",
        default=5)
    security_publisher_name = fields.Char(
        string="Advisory publisher", config_parameter="security_disclosure.publisher_name")
    security_osv_ecosystem = fields.Char(
        string="OSV ecosystem", config_parameter="security_disclosure.osv_ecosystem",
        default="Odoo")

    @api.constrains("security_txt_contact", "security_txt_expires_days")
    def _check_security_txt(self):
        for settings in self:
            wrong = [c for c in split_contacts(settings.security_txt_contact)
                     if not valid_contact(c)]
            if wrong:
                raise ValidationError(self.env._(
                    "security.txt Contact takes mailto: or https: addresses separated by commas, "
                    "e.g. mailto:security@example.com, https://example.com/security; not "
                    "%(wrong)s.", wrong=", ".join(wrong)))
            if not 1 <= settings.security_txt_expires_days <= 365:
                raise ValidationError(self.env._(
                    "The security.txt validity is between 1 and 365 days."))
