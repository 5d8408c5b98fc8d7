import threading

from odoo.http import request, route

from odoo.addons.base.controllers.rpc import RPC


def _with_client(call):
    """odoo.http.dispatch_rpc hides the request from the code it runs: keep
    the client's address, agent and path on the thread for audit events."""
    httprequest = request.httprequest
    thread = threading.current_thread()
    thread.audit_rpc_client = {
        "ip": httprequest.remote_addr,
        "user_agent": (httprequest.headers.get("User-Agent") or "")[:512] or None,
        "request_path": httprequest.path[:512],
    }
    try:
        return call()
    finally:
        thread.audit_rpc_client = None


class AuditRPC(RPC):
    @route()
    def xmlrpc_1(self, service):
        return _with_client(lambda: super(AuditRPC, self).xmlrpc_1(service))

    @route()
    def xmlrpc_2(self, service):
        return _with_client(lambda: super(AuditRPC, self).xmlrpc_2(service))

    @route()
    def jsonrpc(self, service, method, args):
        return _with_client(lambda: super(AuditRPC, self).jsonrpc(service, method, args))
