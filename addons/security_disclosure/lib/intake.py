"""Flood limits of the intake (form and e-mail alike), without the ORM.

Each new report comes from a source: the network of the form's visitor (an
IPv4 address, or an IPv6 /64, which one visitor owns whole), or the sender
address of an e-mail. Within any hour:

- a source gets `per_source` reports; beyond, its reports are refused;
- a channel (form, e-mail) takes `per_channel` reports as usual; beyond, new
  ones are still accepted, but held for the team's review and sent no
  receipt, so that a flood from many sources cannot stop a new reporter;
- held reports are bounded, to bound what a flood can store: on the form,
  `per_network_held` per wider network (an IPv4 /24, an IPv6 /48: what one
  party holds), so that a flood from a few networks never refuses a reporter
  from another; by e-mail, whose sender anyone can make up, `held` in all.
"""
import ipaddress
from collections import namedtuple

ACCEPT, HOLD, REFUSE = "accept", "hold", "refuse"

Limits = namedtuple("Limits", "per_source per_channel held per_network_held")
DEFAULT_LIMITS = Limits(per_source=5, per_channel=100, held=400, per_network_held=20)
# Automatic receipts one address gets per hour, whatever the channel.
DEFAULT_RECEIPTS = 3


def network_of(ip):
    """The source of a visitor: an IPv6 address's /64, an IPv4 address (also
    when mapped in IPv6) as itself; anything else as given."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def wide_network_of(ip):
    """What one party holds around a visitor's address: its IPv4 /24 or IPv6
    /48 (an IPv4-mapped address as IPv4); anything else as given."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 48 if address.version == 6 else 24
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def decide(limits, from_source, accepted, held, held_from_network=None):
    """ACCEPT, HOLD or REFUSE a new report, given what the last hour counted:
    reports from its source, the channel's accepted and held reports, and
    (on the form) the held reports from the source's wider network."""
    if from_source >= limits.per_source:
        return REFUSE
    if accepted < limits.per_channel:
        return ACCEPT
    if held_from_network is not None:
        return HOLD if held_from_network < limits.per_network_held else REFUSE
    if held < limits.held:
        return HOLD
    return REFUSE


def address_key(address):
    """Whom an e-mail address reaches, for counting: lower case, the
    local part without its quotes and its +tag, the domain without a final
    dot and in its ASCII (IDNA) form, so that the variants of one mailbox
    share its limits."""
    address = (address or "").strip().lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    local = local.strip('"').split("+", 1)[0]
    domain = domain.rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return f"{local}@{domain}"
