"""The open-redirect corpus of the suite's tests (pytest and Odoo's runner)."""
# Known open-redirect payloads (PayloadsAllTheThings, OWASP), with the host
# evil.example: encoded slashes, backslashes, control characters, schemes,
# protocol-relative forms, look-alike slashes.
OPEN_REDIRECTS = [
    "//evil.example", "///evil.example", "////evil.example", "/\\evil.example",
    "\\\\evil.example", "/\\/evil.example", "\\/evil.example", "/%09/evil.example",
    "/\t/evil.example", "/%0a/evil.example", "/%0d/evil.example", "/%00/evil.example",
    "/\n/evil.example", "/ /evil.example", "/%20/evil.example", "%2f%2fevil.example",
    "/%2f/evil.example", "/%2F%2Fevil.example", "/%5cevil.example", "/%5c%5cevil.example",
    "/%252f%252fevil.example", "/%25252f%25252fevil.example", "/%2525252f/evil.example",
    "https://evil.example", "http://evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", "javascript://%0aalert(1)", "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>", "//evil.example/%2f..",
    "/\u2215\u2215evil.example", "/%E2%88%95%E2%88%95evil.example",
    "/\uff0f\uff0fevil.example", "/%EF%BC%8F%EF%BC%8Fevil.example",
    "/\uff3cevil.example", "/%EF%BC%BCevil.example", "/\u3002evil.example",
    "evil.example", "@evil.example", "/@evil.example".replace("/@", "//@"),
    "/%C0%AF%C0%AFevil.example", "/\x7f/evil.example", "/\x85/evil.example",
]
LOCAL = ["/odoo", "/odoo/contacts", "/web#action=12&model=res.partner",
         "/my/security/advisories/3?access_token=abc", "/odoo/action-base.action_res_users",
         "/shop/caf%C3%A9", "/odoo?debug=1", "/web/login?redirect=%2Fodoo"]
