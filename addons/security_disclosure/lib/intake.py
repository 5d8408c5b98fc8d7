"""Flood limits of the intake (form and e-mail alike), without the ORM.

Each new report comes from a source: the network of the form's visitor (an
IPv4 address, or an IPv6 /64, which one visitor owns whole), or the sender
address of an e-mail. Within any hour:

- a source gets `per_source` reports; beyond, its reports are refused;
- a channel (form, e-mail) takes `per_channel` reports as usual; beyond, new
  ones are still accepted, but held for the team's review and sent no
  receipt, so that a flood from many sources cannot stop a new reporter;
- up to `held` held reports, which bound what a flood can store; beyond,
  refused.
"""
import ipaddress
from collections import namedtuple

ACCEPT, HOLD, REFUSE = "accept", "hold", "refuse"

Limits = namedtuple("Limits", "per_source per_channel held")
DEFAULT_LIMITS = Limits(per_source=5, per_channel=100, held=400)
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


def decide(limits, from_source, accepted, held):
    """ACCEPT, HOLD or REFUSE a new report, given what the last hour counted:
    reports from its source, and the channel's accepted and held reports."""
    if from_source >= limits.per_source:
        return REFUSE
    if accepted < limits.per_channel:
        return ACCEPT
    if held < limits.held:
        return HOLD
    return REFUSE
