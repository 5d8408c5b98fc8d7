"""The IdP metadata URL: https to public addresses only, the address checked is
the one connected to, no redirect, bounded in time and size, and no word of
the remote server's answer shown to the user. Every server here is a real one
on 127.0.0.1; no test connects anywhere else."""
import datetime
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest.mock import patch

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import config

from ..lib import fetch
from .metadata_addresses import ADDRESSES
from .test_saml import SamlCase

LOOPBACK_FLAG = "auth_saml_allow_http_loopback_metadata"
SECRETS = ("SECRET-STATUS-TEXT", "SECRET-BODY-TEXT")
LARGE = 2 * 1024 * 1024


class Routes(BaseHTTPRequestHandler):
    """What each path of the test server does (see MetadataServer)."""
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        server.hits.append((self.path, self.headers.get("Host")))
        if self.path == "/metadata":
            return self.send(200, server.metadata.encode())
        if self.path == "/other-entity":
            return self.send(200, server.metadata.replace(
                server.entity_id, "https://other-idp.example.com/idp").encode())
        if self.path == "/not-metadata":
            return self.send(200, b"<html>SECRET-BODY-TEXT</html>")
        if self.path == "/error":
            self.send_response(500, "SECRET-STATUS-TEXT")
            self.end_headers()
            return self.wfile.write(b"SECRET-BODY-TEXT")
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", {
                "/redirect-internal": "http://169.254.169.254/latest/meta-data/",
                "/redirect-local": server.url("/metadata"),
            }[self.path])
            return self.end_headers()
        if self.path == "/slow":  # nothing at all, for longer than any timeout
            server.stop.wait(30)
            return None
        if self.path == "/drip":  # one byte at a time, each in time, forever
            self.send_response(200)
            self.end_headers()
            while not server.stop.wait(0.2):
                self.wfile.write(b" ")
                self.wfile.flush()
            return None
        if self.path == "/large":
            return self.send(200, b" " * LARGE)
        if self.path == "/large-unannounced":  # no Content-Length: read until closed
            self.send_response(200)
            self.end_headers()
            for _i in range(LARGE // 65536):
                if server.stop.is_set():
                    break
                self.wfile.write(b" " * 65536)
            return None
        return self.send(404, b"not found")

    def send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class MetadataServer(ThreadingHTTPServer):
    """An HTTP (or, with `tls`, HTTPS) server on 127.0.0.1 serving Routes."""
    daemon_threads = True

    def __init__(self, metadata, entity_id, tls=None):
        super().__init__(("127.0.0.1", 0), Routes)
        self.metadata, self.entity_id = metadata, entity_id
        self.hits, self.stop = [], threading.Event()
        self.scheme, self.host = "http", "127.0.0.1"
        if tls:
            self.scheme, self.host = "https", tls["host"]
            self.socket = tls["context"].wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"{self.scheme}://{self.host}:{self.server_address[1]}{path}"

    def handle_error(self, request, client_address):
        pass  # clients the tests cut off, and TLS handshakes they refuse

    def close(self):
        self.stop.set()
        self.shutdown()
        self.server_close()


def tls_files(folder, host):
    """A CA and a certificate of `host` (a DNS name only, no IP address) it
    signed: (ca file, server TLS context)."""
    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("test CA")).issuer_name(name("test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name(host)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    folder = Path(folder)
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(cert.public_bytes(pem) + key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")
    return str(folder / "ca.pem"), context


@tagged("post_install", "-at_install")
class TestMetadataFetch(SamlCase):

    def setUp(self):
        super().setUp()
        self.server = self.serve()
        # short bounds, so that the slow servers below cost seconds
        for name, value in (("CONNECT_TIMEOUT", 1), ("READ_TIMEOUT", 1), ("DEADLINE", 3)):
            patcher = patch.object(fetch, name, value)
            patcher.start()
            self.addCleanup(patcher.stop)

    def serve(self, tls=None):
        server = MetadataServer(self.idp.metadata(), self.idp.entity_id, tls=tls)
        self.addCleanup(server.close)
        return server

    def loopback_allowed(self, allowed=True):
        return patch.dict(config.options, {LOOPBACK_FLAG: "True" if allowed else "False"})

    def refresh_error(self, url):
        """What the user is told when refreshing from `url` (the flag set)."""
        with self.loopback_allowed():
            self.provider.idp_metadata_url = url
            with self.assertRaises(UserError) as caught:
                self.provider.action_refresh_metadata()
        return str(caught.exception)

    # ------------------------------------------------------------------
    def test_metadata_addresses_by_class(self):
        for address, refused, refused_with_flag in ADDRESSES:
            with self.subTest(address=address):
                self.assertEqual(bool(fetch.address_refusal(address)), refused)
                self.assertEqual(bool(fetch.address_refusal(address, allow_loopback=True)),
                                 refused_with_flag)
        # the same through the refresh, by address and by host name, before any connection
        for address, refused, _with_flag in ADDRESSES:
            if not refused:
                continue  # never connect outside
            host = f"[{address}]" if ":" in address else address
            for url, resolved in ((f"https://{host}/metadata", None),
                                  ("https://idp.example.com/metadata", [address]),
                                  ("https://idp.example.com/metadata", ["93.184.215.14",
                                                                        address])):
                with self.subTest(url=url, resolved=resolved), \
                        patch.object(fetch, "resolve", lambda *a, r=resolved, u=url: r or [
                            u.split("//")[1].split("/")[0].strip("[]")]), \
                        patch.object(fetch, "_connection") as connect:
                    self.provider.idp_metadata_url = url
                    with self.assertRaises(UserError) as caught:
                        self.provider.action_refresh_metadata()
                    self.assertIn("private, local or reserved network", str(caught.exception))
                    connect.assert_not_called()

    def test_metadata_url_is_https_unless_the_loopback_flag_is_set(self):
        url = f"{self.idp.base}/idp/metadata"
        with self.loopback_allowed(False):
            with self.assertRaises(ValidationError) as caught:
                self.provider.idp_metadata_url = url
            self.assertIn("must use https", str(caught.exception))
            for refused in ("https://127.0.0.1/metadata", "https://localhost/metadata",
                            "https://[::1]/metadata", "https://[::ffff:7f00:1]/metadata"):
                self.provider.idp_metadata_url = refused
                with self.subTest(url=refused), self.assertRaises(UserError) as caught:
                    self.provider.action_refresh_metadata()
                self.assertIn("private, local or reserved network", str(caught.exception))
        with self.loopback_allowed():
            for refused in ("http://10.0.0.1/metadata", "http://idp.example.com/metadata",
                            "ftp://127.0.0.1/metadata", "file:///etc/passwd"):
                with self.subTest(url=refused), self.assertRaises(ValidationError):
                    self.provider.idp_metadata_url = refused
            self.provider.write({"idp_metadata_url": url, "idp_entity_id": "placeholder"})
            self.provider.action_refresh_metadata()
        self.assertEqual(self.provider.idp_entity_id, self.idp.entity_id)
        # the flag taken away: refused at the next refresh, whatever was saved
        with self.loopback_allowed(False), self.assertRaises(UserError) as caught:
            self.provider.action_refresh_metadata()
        self.assertIn("must use https", str(caught.exception))

    def test_the_address_checked_is_the_one_connected_to(self):
        with tempfile.TemporaryDirectory() as folder:
            ca_file, server_context = tls_files(folder, "metadata.test")
            server = self.serve(tls={"host": "metadata.test", "context": server_context})
            answers = []

            def rebinding_dns(host, port, timeout):
                # loopback the first time, a private address to every later lookup
                answers.append(host)
                return ["127.0.0.1"] if len(answers) == 1 else ["10.0.0.1"]

            trusted = ssl.create_default_context(cafile=ca_file)
            with self.loopback_allowed(), patch.object(fetch, "resolve", rebinding_dns), \
                    patch.object(fetch, "tls_context", lambda: trusted):
                self.provider.write({"idp_metadata_url": server.url("/metadata"),
                                     "idp_entity_id": "placeholder"})
                self.provider.action_refresh_metadata()
            self.assertEqual(self.provider.idp_entity_id, self.idp.entity_id)
            self.assertEqual(answers, ["metadata.test"])  # resolved once
            # TLS checked for the name (the certificate has no IP address), sent as Host
            self.assertEqual(server.hits,
                             [("/metadata", f"metadata.test:{server.server_address[1]}")])
            # a certificate nobody trusts (the system's CAs): refused
            with self.loopback_allowed(), patch.object(fetch, "resolve",
                                                       lambda *a: ["127.0.0.1"]):
                self.provider.idp_metadata_url = server.url("/metadata")
                with self.assertRaises(UserError) as caught:
                    self.provider.action_refresh_metadata()
            self.assertIn("TLS certificate could not be verified", str(caught.exception))

    def test_redirects_are_not_followed(self):
        for path in ("/redirect-internal", "/redirect-local"):
            with self.subTest(path=path):
                self.assertIn("redirects elsewhere", self.refresh_error(self.server.url(path)))
        self.assertEqual([path for path, _host in self.server.hits],
                         ["/redirect-internal", "/redirect-local"])

    def test_slow_and_large_answers_are_cut_off(self):
        for path, message in (("/slow", "did not answer in time"),
                              ("/drip", "did not answer in time"),
                              ("/large", "larger than 1 MiB"),
                              ("/large-unannounced", "larger than 1 MiB")):
            with self.subTest(path=path):
                started = time.monotonic()
                self.assertIn(message, self.refresh_error(self.server.url(path)))
                # the deadline (3 s here) holds, even one byte at a time
                self.assertLess(time.monotonic() - started, 4.5)

    def test_errors_do_not_show_the_remote_answer(self):
        with self.collect_logs() as logs:
            error = self.refresh_error(self.server.url("/error"))
            self.assertIn("did not return the metadata", error)
            refused = self.refresh_error(self.server.url("/not-metadata"))
            self.assertIn("is not the metadata of an identity provider", refused)
        for text in SECRETS + ("HTTP 500", "Internal Server Error"):
            self.assertNotIn(text, error)
            self.assertNotIn(text, refused)
        # the administrator finds the details in the server log
        self.assertTrue(any("HTTP 500" in message for _name, message in logs))

    def test_daily_refresh_is_bounded_and_renews_the_same_idp_only(self):
        Provider = self.env["auth.saml.provider"]
        with self.loopback_allowed():
            self.provider.idp_metadata_url = f"{self.idp.base}/idp/metadata"
            slow = self.provider.copy({"name": "slow", "idp_metadata_url":
                                       self.server.url("/drip")})
            other = self.provider.copy({"name": "other", "idp_metadata_url":
                                        self.server.url("/other-entity")})
            self.provider.idp_metadata_refreshed = False
            started = time.monotonic()
            with self.collect_logs() as logs:
                Provider._cron_refresh_metadata()
            # one server dripping bytes costs the deadline, not more
            self.assertLess(time.monotonic() - started, 6)
        self.assertTrue(self.provider.idp_metadata_refreshed)
        self.assertFalse(slow.idp_metadata_refreshed)
        # a document of another IdP entity is not taken unattended
        self.assertFalse(other.idp_metadata_refreshed)
        self.assertEqual(other.idp_entity_id, self.idp.entity_id)
        self.assertTrue(any("not the metadata of" in message for _name, message in logs))
        self.assertTrue(all((self.provider | slow | other).mapped("idp_metadata_attempted")))
        # tried today: the next run leaves them alone
        hits = len(self.server.hits)
        with self.loopback_allowed():
            Provider._cron_refresh_metadata()
        self.assertEqual(len(self.server.hits), hits)

    def test_daily_refresh_stops_at_its_budget_and_reports_what_is_left(self):
        Provider = self.env["auth.saml.provider"]
        with self.loopback_allowed():
            self.provider.idp_metadata_url = self.server.url("/slow")
            self.provider.copy({"name": "two", "idp_metadata_url": self.server.url("/slow")})
            self.provider.copy({"name": "three", "idp_metadata_url": self.server.url("/slow")})
            progress = []
            with patch("odoo.addons.auth_saml_all_tiers.models.auth_saml_provider."
                       "METADATA_CRON_BUDGET", 0), \
                    patch.object(type(self.env["ir.cron"]), "_notify_progress",
                                 lambda _self, **kw: progress.append(kw)):
                started = time.monotonic()
                Provider._cron_refresh_metadata()
                self.assertLess(time.monotonic() - started, 4.5)  # one fetch, then stop
                Provider._cron_refresh_metadata()
        self.assertEqual(progress, [{"done": 1, "remaining": 2}, {"done": 1, "remaining": 1}])
        self.assertEqual(len(self.server.hits), 2)  # the next run took the next provider
