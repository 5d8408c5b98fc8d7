from odoo import api, fields, models

from .audit_checkpoint import PUBLISH_LOCK_DAYS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    audit_webhook_url = fields.Char(
        string="Alert webhook", config_parameter="audit_trail.webhook_url",
        help="Security alerts are POSTed here as JSON (5 s timeout).")
    audit_failed_login_threshold = fields.Integer(
        string="Failed logins before an alert", default=5,
        config_parameter="audit_trail.failed_login_threshold")
    audit_failed_login_window = fields.Integer(
        string="Within (minutes)", default=10, config_parameter="audit_trail.failed_login_window")
    # the Owner's (audit_trail.* parameters are never an Admin's)
    audit_publish_profile = fields.Selection(
        selection="_audit_publish_profiles", string="Publish checkpoints to S3",
        config_parameter="audit_trail.publish_profile_id",
        help="Each signed checkpoint is written, locked in COMPLIANCE mode, to this backup "
        "profile's bucket under <prefix>/audit-checkpoints/<database uuid>/. The bucket must "
        "have been created with Object Lock.")
    audit_publish_lock_days = fields.Integer(
        string="Locked for (days)", default=PUBLISH_LOCK_DAYS,
        config_parameter="audit_trail.publish_lock_days",
        help="Nobody, the bucket's owner included, can delete a published checkpoint before "
        "this many days have passed.")
    audit_publish_url = fields.Char(
        string="Publish checkpoints to an HTTPS endpoint",
        config_parameter="audit_trail.publish_url",
        help="Each signed checkpoint is POSTed as JSON, with the bearer token of odoo.conf "
        "option audit_publish_token (or AUDIT_PUBLISH_TOKEN).")

    @api.model
    def _audit_publish_profiles(self):
        if "selfhost.backup.profile" not in self.env:
            return []
        # sudo: the names of the profiles, for the Owner's choice
        return [(str(profile.id), profile.name)
                for profile in self.env["selfhost.backup.profile"].sudo().search([])]
