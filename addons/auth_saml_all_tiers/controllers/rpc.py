from odoo.http import request, route

from odoo.addons.base.controllers.rpc import RPC

from ..lib import throttle
from ..models.res_users import _RPC_CLIENT, DEVICE_COOKIE


class ThrottledRPC(RPC):
    """Core hides the HTTP request while an XML-RPC or JSON-RPC call runs:
    the password it checks is throttled by the client's address all the same
    (res.users._auth_client), not as if the server had called itself."""

    def _rpc_client(self):
        return {"source": throttle.source_key(request.httprequest.remote_addr),
                "device": request.httprequest.cookies.get(DEVICE_COOKIE)}

    def _xmlrpc(self, service):
        token = _RPC_CLIENT.set(self._rpc_client())
        try:
            return super()._xmlrpc(service)
        finally:
            _RPC_CLIENT.reset(token)

    @route()
    def jsonrpc(self, service, method, args):
        token = _RPC_CLIENT.set(self._rpc_client())
        try:
            return super().jsonrpc(service, method, args)
        finally:
            _RPC_CLIENT.reset(token)
