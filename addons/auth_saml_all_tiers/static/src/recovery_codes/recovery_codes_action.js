/** @odoo-module **/

import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { CopyButton } from "@web/core/copy_button/copy_button";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

/**
 * The recovery codes just renewed, shown once in a dialog (action target
 * "new"): they come with the action and are kept nowhere else, in the
 * database or in the browser (a dialog's action is not written to the URL or
 * to the session storage).
 */
export class RecoveryCodesDialog extends Component {
    static template = "auth_saml_all_tiers.RecoveryCodesDialog";
    static components = { CopyButton };
    static props = ["*"];

    setup() {
        this.actionService = useService("action");
        this.codes = this.props.action.params?.codes || [];
        this.copyText = _t("Copy");
        this.copiedText = _t("Copied");
    }

    get text() {
        return this.codes.join("\n");
    }

    done() {
        this.actionService.doAction({ type: "ir.actions.act_window_close" });
    }
}

registry.category("actions").add("auth_saml_all_tiers.recovery_codes", RecoveryCodesDialog);
