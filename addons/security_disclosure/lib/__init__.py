"""Plain-Python helpers of security_disclosure (no `odoo` import): CVSS
scoring, HTML stripping, security.txt, CSAF 2.0 and OSV documents."""
