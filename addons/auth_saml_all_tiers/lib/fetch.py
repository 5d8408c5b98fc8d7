"""Fetching a small document (IdP metadata) from a URL an administrator typed,
in plain Python (no Odoo), without reaching into the server's own network:

- https only; http only to a loopback address, and loopback at all, only when
  the caller allows it (a test setting);
- the host name is resolved once, every address it resolves to must be public
  (no private, shared, link-local, loopback, multicast, reserved or
  unspecified address, nor one hidden in an IPv6 address: IPv4-mapped, 6to4,
  NAT64), and the connection goes to the address checked (no second lookup a
  rebinding DNS could answer differently), TLS verified for the host name;
- no redirect is followed;
- bounded: connect and read timeouts, a total deadline that also covers name
  resolution, a slow TLS handshake and a server sending one byte at a time,
  and a size cap.

`FetchError.reason` is a short code the caller turns into its own message for
the user; `str(error)` is for the server log only (it may quote the remote
status or the address a name resolved to)."""
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

MAX_BYTES = 1024 * 1024
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 10
DEADLINE = 20
CHUNK = 64 * 1024

SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, still routed internally
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 addresses behind a NAT64 gateway


class FetchError(Exception):
    """`reason`: url, scheme, resolve, address, connect, tls, timeout,
    redirect, status, too_large, protocol."""

    def __init__(self, reason, detail):
        super().__init__(detail)
        self.reason = reason


def _embedded_ipv4(ip):
    """The IPv4 address an IPv6 address carries to an IPv4 host, or None."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(address, allow_loopback=False):
    """Why `address` (text or ipaddress object) may not be fetched from, or
    None when it is a public address (or loopback, with `allow_loopback`)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str)
                              else address)
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        # only an IPv4-mapped address is the IPv4 host itself (6to4, NAT64: a relay's)
        refusal = address_refusal(embedded, allow_loopback and embedded == ip.ipv4_mapped)
        return f"{refusal} (in {ip})" if refusal else None
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    for refused, name in ((ip.is_unspecified, "unspecified"), (ip.is_link_local, "link-local"),
                          (ip.is_multicast, "multicast"), (ip in SHARED, "shared"),
                          (ip in SITE_LOCAL, "site-local"), (ip.is_private, "private"),
                          (ip.is_reserved, "reserved"), (not ip.is_global, "not global")):
        if refused:
            return name
    return None


def resolve(host, port, timeout):
    """The addresses of `host`, in the resolver's order, each once. The system
    resolver has no timeout of its own: it runs in a thread that is left
    behind (and ends on its own) when it takes longer than `timeout`."""
    result = {}

    def lookup():
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            result["error"] = error

    thread = threading.Thread(target=lookup, name="metadata-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise FetchError("timeout", f"resolving {host} took more than {timeout:.0f} s")
    if "error" in result:
        raise FetchError("resolve", f"{host} could not be resolved: {result['error']}")
    addresses = []
    for _family, _type, _proto, _name, sockaddr in result["infos"]:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise FetchError("resolve", f"{host} has no address")
    return addresses


class _Deadline:
    """The total time of one fetch: past it, every socket opened for it is
    shut down, which ends any read or handshake blocked on it."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self):
        left = self.end - time.monotonic()
        if left <= 0 or self.expired:
            raise FetchError("timeout", "the total deadline passed")
        return left

    def watch(self, sock):
        # a duplicate descriptor: shutdown() reaches the socket even once TLS
        # has taken the original descriptor over
        with self._lock:
            if self.expired:
                sock.close()
                raise FetchError("timeout", "the total deadline passed")
            self._sockets.append(sock.dup())
        return sock

    def _expire(self):
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets = []


def _connection(parts, host, port, address, timeout, deadline, context):
    """An http.client connection to `host` that connects to `address` only
    (the Host header, SNI and certificate check still name `host`)."""
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout,
                                           context=context or tls_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def create_connection(_host_port, timeout=None, source_address=None):
        return deadline.watch(socket.create_connection((address, port), timeout,
                                                       source_address))

    conn._create_connection = create_connection
    return conn


def tls_context():
    """The system's trusted certificates, host name checked."""
    return ssl.create_default_context()


def fetch(url, allow_loopback=False, max_bytes=MAX_BYTES, connect_timeout=None,
          read_timeout=None, deadline=None, context=None):
    """The body of a GET of `url` (bytes), or FetchError. Timeouts default to
    this module's; `context`: the TLS context (default: tls_context())."""
    connect_timeout = connect_timeout or CONNECT_TIMEOUT
    read_timeout = read_timeout or READ_TIMEOUT
    deadline = deadline or DEADLINE
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError as error:
        raise FetchError("url", f"not a URL: {error}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FetchError("scheme", f"not an https URL: {url}")
    if parts.scheme == "http" and not allow_loopback:
        raise FetchError("scheme", f"http is refused: {url}")
    if parts.username is not None or parts.password is not None:
        raise FetchError("url", "credentials in the URL")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    clock = _Deadline(deadline)
    try:
        addresses = resolve(host, port, min(clock.left(), connect_timeout))
        for address in addresses:
            refusal = address_refusal(address, allow_loopback)
            if refusal:
                raise FetchError("address", f"{host} resolves to {address} ({refusal})")
            if parts.scheme == "http" and not ipaddress.ip_address(
                    address.split("%", 1)[0]).is_loopback:
                raise FetchError("scheme", f"http is for loopback addresses only: {url}")
        return _get(parts, host, port, path, addresses, clock, max_bytes, connect_timeout,
                    read_timeout, context)
    except FetchError:
        raise
    except Exception as error:
        if clock.expired:
            raise FetchError("timeout", f"the total deadline passed ({error!r})") from None
        raise
    finally:
        clock.close()


def _get(parts, host, port, path, addresses, clock, max_bytes, connect_timeout, read_timeout,
         context):
    conn, errors = None, []
    for address in addresses:
        conn = _connection(parts, host, port, address, min(connect_timeout, clock.left()),
                           clock, context)
        try:
            conn.connect()
        except ssl.SSLError as error:  # a certificate for another name, or none we trust
            conn.close()
            raise FetchError("tls", f"TLS with {host} ({address}) failed: {error}") from None
        except OSError as error:
            conn.close()
            if clock.expired:
                raise FetchError("timeout", "the total deadline passed while connecting") \
                    from None
            errors.append(f"{address}: {error}")
            conn = None
            continue
        break
    if conn is None:
        raise FetchError("connect", f"{host} could not be reached ({'; '.join(errors)})")
    sock = conn.sock  # the response keeps reading it once the connection lets go of it
    try:
        peer = sock.getpeername()[0]
        if ipaddress.ip_address(peer.split("%", 1)[0]) != ipaddress.ip_address(
                address.split("%", 1)[0]):
            raise FetchError("address", f"connected to {peer}, not to {address}")
        sock.settimeout(min(read_timeout, clock.left()))
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.putheader("Accept", "application/samlmetadata+xml, application/xml, text/xml")
        conn.putheader("Connection", "close")
        conn.endheaders()
        response = conn.getresponse()
        if 300 <= response.status < 400:
            raise FetchError("redirect", f"HTTP {response.status} to "
                             f"{response.getheader('Location', '')[:200]}")
        if response.status != 200:
            raise FetchError("status", f"HTTP {response.status}")
        length = response.getheader("Content-Length")
        if length and length.strip().isdigit() and int(length) > max_bytes:
            raise FetchError("too_large", f"Content-Length {length}")
        body = bytearray()
        while not response.isclosed():  # it closes the socket once the body is read
            sock.settimeout(min(read_timeout, clock.left()))
            chunk = response.read(min(CHUNK, max_bytes + 1 - len(body)))
            if clock.expired:
                raise FetchError("timeout", "the total deadline passed while reading")
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                raise FetchError("too_large", f"more than {max_bytes} bytes")
        return bytes(body)
    except TimeoutError:
        raise FetchError("timeout", "no data within the read timeout") from None
    except (http.client.HTTPException, OSError) as error:
        if clock.expired:
            raise FetchError("timeout", f"the total deadline passed ({error!r})") from None
        raise FetchError("protocol", f"the answer could not be read: {error!r}") from None
    finally:
        conn.close()
