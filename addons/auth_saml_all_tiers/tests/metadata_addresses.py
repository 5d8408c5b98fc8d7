"""Addresses a metadata URL may resolve to, by class: shared by the Odoo tests
and the plain-Python ones (tests/test_saml_fetch_lib.py at the repository root).
No test connects to any of them."""

# (address, refused without the loopback flag, refused with it)
ADDRESSES = [
    ("93.184.215.14", False, False),  # public IPv4
    ("8.8.8.8", False, False),
    ("2606:4700:4700::1111", False, False),  # public IPv6
    ("2002:5db8:d70e::1", False, False),  # 6to4 of a public IPv4
    ("64:ff9b::5db8:d70e", False, False),  # NAT64 of a public IPv4
    ("127.0.0.1", True, False),  # loopback
    ("127.255.255.254", True, False),
    ("::1", True, False),
    ("::ffff:127.0.0.1", True, False),  # IPv4-mapped loopback
    ("0.0.0.0", True, True),  # unspecified
    ("::", True, True),
    ("10.0.0.1", True, True),  # private
    ("172.16.5.4", True, True),
    ("192.168.1.1", True, True),
    ("100.64.0.1", True, True),  # shared (carrier-grade NAT)
    ("169.254.169.254", True, True),  # link-local (cloud metadata)
    ("fe80::1", True, True),
    ("fe80::1%1", True, True),  # scoped
    ("fc00::1", True, True),  # unique local
    ("fd12:3456::1", True, True),
    ("fec0::1", True, True),  # site-local
    ("224.0.0.1", True, True),  # multicast
    ("239.255.255.250", True, True),
    ("ff02::1", True, True),
    ("240.0.0.1", True, True),  # reserved
    ("255.255.255.255", True, True),  # broadcast
    ("192.0.2.10", True, True),  # documentation
    ("198.18.0.1", True, True),  # benchmarking
    ("2001:db8::1", True, True),
    ("::ffff:10.0.0.1", True, True),  # IPv4-mapped private
    ("::ffff:169.254.169.254", True, True),
    ("::ffff:0.0.0.0", True, True),
    ("2002:a00:1::", True, True),  # 6to4 of 10.0.0.1
    ("2002:7f00:1::", True, True),  # 6to4 of 127.0.0.1: a relay's, not ours
    ("64:ff9b::a00:1", True, True),  # NAT64 of 10.0.0.1
    ("64:ff9b::a9fe:a9fe", True, True),  # NAT64 of 169.254.169.254
    ("::10.0.0.1", True, True),  # IPv4-compatible (deprecated)
    ("2001::1", True, True),  # Teredo
]
