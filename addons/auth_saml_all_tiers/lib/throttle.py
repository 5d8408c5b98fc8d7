"""Login throttling arithmetic, after OWASP's authentication guidance. Plain Python.

Three counters slow a password guesser without stopping the account's owner:

- per (login, source): growing delays, then a lockout of that login *from that
  source* only (a device that proved itself once is its own source, see
  ``device_token``);
- per source: growing delays for everything tried from one address (IPv6: its
  /64), never a lockout, so a shared address is slowed, not shut out;
- per login, over every untrusted source: a ceiling against guessing spread over
  many addresses. It only ever delays, and never a known device, a session
  already logged in as the user, single sign-on or an API key.
"""
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta

NEVER = 10 ** 9  # a `free` this large disables a counter's delays


@dataclass(frozen=True)
class Policy:
    free: int            # failures allowed before any delay
    lockout_after: int   # failures that lock the key (0: never)
    lockout_minutes: int
    max_delay: int       # seconds
    window_minutes: int  # a quiet period this long forgets the failures

    @classmethod
    def from_params(cls, get, prefix, defaults):
        return cls(**{name: int(get(f"{prefix}.{name}", value)) for name, value in defaults.items()})


# per (login, source): the lockout
LOGIN_SOURCE_DEFAULTS = {"free": 3, "lockout_after": 10, "lockout_minutes": 15,
                         "max_delay": 300, "window_minutes": 60}
# per source: the slowdown (core's base.login_cooldown_after / _duration set
# `free` and `max_delay` when they are set)
SOURCE_DEFAULTS = {"free": 10, "lockout_after": 0, "lockout_minutes": 0, "max_delay": 60,
                   "window_minutes": 60}
# per login, untrusted sources only: the ceiling
LOGIN_DEFAULTS = {"free": 30, "lockout_after": 0, "lockout_minutes": 0, "max_delay": 60,
                  "window_minutes": 60}
# wrong two-factor codes, per account: a 6-digit code must not be guessable
TOTP_DEFAULTS = {"free": 3, "lockout_after": 10, "lockout_minutes": 15, "max_delay": 60,
                 "window_minutes": 60}


def delay_after(failures, policy):
    """Seconds to wait after `failures` consecutive failures: 0 while free,
    then 1, 2, 4, ... up to max_delay."""
    if failures <= policy.free:
        return 0
    return min(2 ** min(failures - policy.free - 1, 30), policy.max_delay)


def retry_after(failures, last_failure, locked_until, now, policy):
    """Seconds before the next attempt may be checked (0: now)."""
    if locked_until and now < locked_until:
        return (locked_until - now).total_seconds()
    if not last_failure or now - last_failure > timedelta(minutes=policy.window_minutes):
        return 0
    wait = last_failure + timedelta(seconds=delay_after(failures, policy)) - now
    return max(0.0, wait.total_seconds())


def locks(failures, policy):
    return policy.lockout_after > 0 and failures >= policy.lockout_after


def source_key(address):
    """The source an address counts as: an IPv4 address, or the /64 network of
    an IPv6 one (one host commonly holds a whole /64). IPv4-mapped IPv6
    addresses count as their IPv4 address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:  # not an address (a forged proxy header): one bucket for all
        return "invalid"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


SEPARATOR = " from "


def login_key(login):
    return (login or "").strip().lower() or None


def pair_key(login, source):
    """The key of a login tried from a source (an address, or a known device)."""
    return f"{login}{SEPARATOR}{source}" if login and source else None


def pair_login(key):
    return key.rsplit(SEPARATOR, 1)[0]


# -- device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies")
def new_device_token(key, uid):
    """A token the browser keeps after a right password: `uid.nonce.signature`."""
    nonce = secrets.token_urlsafe(12)
    return f"{uid}.{nonce}.{_device_signature(key, uid, nonce)}"


def device_nonce(key, uid, token):
    """The nonce of a token that `key` signed for `uid`, or None."""
    parts = (token or "").split(".")
    if len(parts) != 3 or parts[0] != str(uid) or not parts[1]:
        return None
    if not hmac.compare_digest(parts[2], _device_signature(key, uid, parts[1])):
        return None
    return parts[1]


def _device_signature(key, uid, nonce):
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, f"auth-device:{uid}:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]
