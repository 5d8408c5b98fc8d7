"""Which backups a profile's retention removes. Pure functions: the caller lists
the keys (only under the profile's own prefix), tells which sets authenticate,
and deletes what is returned."""
import re
from datetime import datetime, timedelta, timezone

BACKUP_ID_RE = r"\d{8}T\d{6}Z-[0-9a-f]{8}"
OBJECT_NAMES = r"(?:manifest\.json|db\.dump(?:\.zst|\.gz)?(?:\.aes)?|filestore\.tar(?:\.zst|\.gz)?(?:\.aes)?)"
STALE_INCOMPLETE = timedelta(days=1)
# a backup id dated later than now + this is not one this suite wrote: ignored
CLOCK_SKEW = timedelta(hours=1)


def backup_id_for(when, token):
    return when.strftime("%Y%m%dT%H%M%SZ") + "-" + token


def created_of(backup_id):
    return datetime.strptime(backup_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def is_future(backup_id, now):
    """Dated in the future: never counted as the newest backup, never deleted by age."""
    return created_of(backup_id) > now + CLOCK_SKEW


def group_backups(base, listing):
    """{backup_id: {"keys": [...], "sizes": {key: size}, "manifest": bool}} for the
    keys named as this suite names them directly under `base` (`<prefix><database>/`);
    every other key is left out, so it is never touched. `listing`: (key, size) pairs.

    A set with a manifest is not yet a backup: the caller authenticates it and sets
    "authentic" (see expired())."""
    pattern = re.compile(re.escape(base) + f"({BACKUP_ID_RE})/({OBJECT_NAMES})$")
    sets = {}
    for key, size in listing:
        m = pattern.match(key)
        if not m:
            continue
        entry = sets.setdefault(m.group(1), {"keys": [], "sizes": {}, "manifest": False})
        entry["keys"].append(key)
        entry["sizes"][key] = size
        if m.group(2) == "manifest.json":
            entry["manifest"] = True
    return sets


def expired(sets, keep_count, keep_days, now, current=None):
    """The backup ids to delete: authentic backups beyond the `keep_count` newest
    or older than `keep_days` (0 = no limit), never the newest authentic one nor
    `current`; and sets without a manifest (failed runs) older than a day.

    A set with a manifest that did not authenticate ("authentic" not true: planted,
    altered, copied, unsigned) is neither counted nor deleted: counting it would
    push real backups out, deleting it would let anyone who can overwrite a real
    backup's manifest have that backup removed."""
    good = sorted((bid for bid, s in sets.items() if s["manifest"] and s.get("authentic")
                   and not is_future(bid, now)), reverse=True)
    doomed = set()
    if keep_count and keep_count > 0:
        doomed.update(good[keep_count:])
    if keep_days and keep_days > 0:
        limit = now - timedelta(days=keep_days)
        doomed.update(bid for bid in good if created_of(bid) < limit)
    if good:
        doomed.discard(good[0])  # never leave zero good backups
    doomed.update(bid for bid, s in sets.items()
                  if not s["manifest"] and created_of(bid) < now - STALE_INCOMPLETE)
    doomed.discard(current)
    return sorted(doomed)


def rejected(sets):
    """[(backup_id, reason)] of the sets whose manifest did not authenticate."""
    return sorted((bid, s.get("problem") or "not authenticated") for bid, s in sets.items()
                  if s["manifest"] and not s.get("authentic"))
