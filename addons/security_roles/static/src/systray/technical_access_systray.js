import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { session } from "@web/session";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";

/** Says plainly, on every screen, that this Admin holds the Owner's technical rights for now. */
export class TechnicalAccessSystray extends Component {
    static template = "security_roles.TechnicalAccessSystray";
    static props = {};

    get end() {
        return deserializeDateTime(session.security_technical_access_until);
    }

    get until() {
        return this.end.toFormat("HH:mm");
    }

    get title() {
        return _t(
            "Until %s you can do what the Owner can: code, views, access rights, modules, mail servers, sign-in providers and system parameters. Every use is audited.",
            formatDateTime(this.end)
        );
    }
}

if (session.security_technical_access_until) {
    registry.category("systray").add(
        "security_roles.technical_access",
        { Component: TechnicalAccessSystray },
        { sequence: 1000 }
    );
}
