from odoo import models


class MailRenderMixin(models.AbstractModel):
    """A template whose placeholders go beyond plain field paths runs code when
    it is rendered, often as sudo by the server (sending, previews, scheduled
    mailings): saving one is the Owner's, like a view (core only asks for the
    template-editor group, which Settings implies)."""
    _inherit = "mail.render.mixin"

    def _check_access_right_dynamic_template(self):
        super()._check_access_right_dynamic_template()
        if self._has_unsafe_expression() \
                and not self.env["res.users"]._security_technical_actor():
            self._security_refuse("write", self.env._(
                "Only the Owner can save templates with expressions beyond plain field "
                "placeholders (such as {{ object.name }}): they run code when rendered."))
