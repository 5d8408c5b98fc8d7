"""Login throttling arithmetic: growing delays, then a lockout. Plain Python."""
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Policy:
    free: int            # failures allowed before any delay
    lockout_after: int   # failures that lock the key
    lockout_minutes: int
    max_delay: int       # seconds
    window_minutes: int  # a quiet period this long forgets the failures

    @classmethod
    def from_params(cls, get, prefix, defaults):
        return cls(**{name: int(get(f"{prefix}.{name}", value)) for name, value in defaults.items()})


LOGIN_DEFAULTS = {"free": 3, "lockout_after": 10, "lockout_minutes": 15, "max_delay": 300,
                  "window_minutes": 60}
IP_DEFAULTS = {"free": 10, "lockout_after": 50, "lockout_minutes": 15, "max_delay": 60,
               "window_minutes": 60}
# wrong two-factor codes, per account: a 6-digit code must not be guessable
TOTP_DEFAULTS = {"free": 3, "lockout_after": 10, "lockout_minutes": 15, "max_delay": 60,
                 "window_minutes": 60}


def delay_after(failures, policy):
    """Seconds to wait after `failures` consecutive failures: 0 while free,
    then 1, 2, 4, ... up to max_delay."""
    if failures <= policy.free:
        return 0
    return min(2 ** (failures - policy.free - 1), policy.max_delay)


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
