import threading

from odoo.http import request, route

from odoo.addons.base.controllers.rpc import RPC


def _remember_client():
    """odoo.http.dispatch_rpc hides the request from the code it runs: keep
    the client's address, agent and path on the thread for audit events."""
    httprequest = request.httprequest
    threading.current_thread().audit_rpc_client = {
        "ip": httprequest.remote_addr,
        "user_agent": (httprequest.headers.get("User-Agent") or "")[:512] or None,
        "request_path": httprequest.path[:512],
    }


def _forget_client():
    threading.current_thread().audit_rpc_client = None


class AuditRPC(RPC):
    @route()
    def xmlrpc_1(self, service):
        _remember_client()
        try:
            return super().xmlrpc_1(service)
        finally:
            _forget_client()

    @route()
    def xmlrpc_2(self, service):
        _remember_client()
        try:
            return super().xmlrpc_2(service)
        finally:
            _forget_client()

    @route()
    def jsonrpc(self, service, method, args):
        _remember_client()
        try:
            return super().jsonrpc(service, method, args)
        finally:
            _forget_client()
