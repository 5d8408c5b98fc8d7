import json
import logging
import os
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.security_roles import actor

from ..lib import chain, publish
from .audit_append_only import BigInteger

_logger = logging.getLogger(__name__)

PUBLISH_LOCK_DAYS = 3650  # how long a published checkpoint stays locked, by default


def signing_key_material():
    """The checkpoint signing key, from outside the database: AUDIT_SIGNING_KEY
    (environment) or `audit_signing_key` / `audit_signing_key_file` (odoo.conf).
    An Ed25519 key as PEM, or a base64 32-byte seed."""
    material = os.environ.get("AUDIT_SIGNING_KEY") or tools.config.get("audit_signing_key")
    path = os.environ.get("AUDIT_SIGNING_KEY_FILE") or tools.config.get("audit_signing_key_file")
    if not material and path:
        with open(path, encoding="utf-8") as fh:
            material = fh.read()
    return material or None


class AuditCheckpoint(models.Model):
    """Signed statements "the chain had hash H at sequence N", exportable off
    the database: a rewrite of the whole chain tail is caught by comparing
    the live chain with an exported copy of these."""
    _name = "audit.checkpoint"
    _inherit = ["audit.append.only.mixin"]
    _description = "Audit Chain Checkpoint"
    _order = "sequence desc, number desc"
    _log_access = False

    number = BigInteger(readonly=True, index=True,
                        help="Checkpoints are numbered 1, 2, 3... and each signs the one before.")
    prev = fields.Char(string="Previous Checkpoint", readonly=True,
                       help="Digest of the checkpoint before this one, signature included.")
    digest_v2_from = BigInteger(readonly=True,
                                help="Sequence from which event digests are two-level (signed).")
    sequence = BigInteger(readonly=True, index=True)
    hash = fields.Char(readonly=True)
    signed_at = fields.Datetime(readonly=True)
    signature = fields.Char(readonly=True)
    key_id = fields.Char(readonly=True, help="Fingerprint of the public key that verifies the signature.")
    published = fields.Boolean(compute="_compute_published",
                               help="Published outside the database (Settings > Security alerts).")

    def _compute_published(self):
        self.env.cr.execute("SELECT coalesce(last_published, 0) FROM audit_chain_state WHERE id = 1")
        last = self.env.cr.fetchone()[0]
        for checkpoint in self:
            checkpoint.published = bool(checkpoint.number) and checkpoint.number <= last

    @api.model
    def _private_key(self):
        material = signing_key_material()
        if not material:
            return None
        try:
            return chain.load_private_key(material)
        except ValueError as exc:
            raise UserError(self.env._("The audit signing key is not usable: %s", exc)) from None

    @api.model
    def _database_uuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid")

    def init(self):
        self.env.cr.execute("""
            ALTER TABLE audit_chain_state ADD COLUMN IF NOT EXISTS last_checkpoint bigint;
            ALTER TABLE audit_chain_state ADD COLUMN IF NOT EXISTS last_published bigint;
        """)

    @api.model
    def _checkpoint_head(self):
        """Sign the current chain head, if it moved since the last checkpoint:
        the next number, linked to the checkpoint before."""
        key = self._private_key()
        if not key:
            return False
        cr = self.env.cr
        cr.execute("SELECT last_sequence, last_hash, coalesce(last_checkpoint, 0), digest_v2_from"
                   " FROM audit_chain_state WHERE id = 1 FOR UPDATE")
        sequence, head, last_number, v2_from = cr.fetchone()
        first = self.search([("number", "!=", False)], order="number", limit=1)
        v2_from = first.digest_v2_from if first else v2_from  # signed once, kept
        if not sequence:
            return False
        uuid = self._database_uuid()
        # signed already: a checkpoint of this very head that verifies (not
        # merely a later sequence: a row planted far ahead would stop signing)
        pem = chain.public_key_pem(key)
        for existing in self.search([("sequence", "=", sequence), ("hash", "=", head),
                                     ("key_id", "=", chain.key_id(pem))]):
            if chain.verify_signature(pem, existing._payload(uuid), existing.signature or ""):
                return False
        previous = self.search([], order="number desc nulls last, sequence desc", limit=1)
        prev = chain.checkpoint_digest(previous._payload(uuid), previous.signature) \
            if previous else chain.GENESIS
        number = max(last_number, previous.number or 0) + 1
        signed_at = datetime.utcnow().replace(microsecond=0)
        payload = chain.checkpoint_payload(uuid, sequence, head, signed_at.isoformat(),
                                           number, prev, v2_from)
        cr.execute(SQL(
            "INSERT INTO audit_checkpoint (number, prev, digest_v2_from, sequence, hash, signed_at,"
            " signature, key_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", number, prev,
            v2_from or 0, sequence, head, signed_at, chain.sign(key, payload),
            chain.key_id(chain.public_key_pem(key))))
        cr.execute("UPDATE audit_chain_state SET last_checkpoint = %s WHERE id = 1", [number])
        self.invalidate_model()
        cr.postcommit.add(self._publish_after_commit)
        return True

    # ------------------------------------------------------------------
    # Publication outside the database
    # ------------------------------------------------------------------
    @api.model
    def _publication_targets(self):
        """Where signed checkpoints go: [(label, publish(checkpoint, data))].
        The Owner's settings (system parameters are the Owner's): a backup
        profile of selfhost_backup (its S3 client, bucket and prefix; the
        bucket must have Object Lock), and/or an HTTPS endpoint whose bearer
        token comes from odoo.conf or the environment, never the database."""
        params = self.env["ir.config_parameter"].sudo()
        targets = []
        profile_id = params.get_param("audit_trail.publish_profile_id")
        if profile_id:
            if "selfhost.backup.profile" not in self.env:
                raise publish.PublishError("the backup profile chosen for publication needs the "
                                           "selfhost_backup module")
            profile = self.env["selfhost.backup.profile"].sudo().browse(
                int(profile_id)).exists()  # sudo: the server connects with the profile's keys
            if not profile:
                raise publish.PublishError(f"the backup profile {profile_id} chosen for "
                                           "publication no longer exists")
            days = params.get_param("audit_trail.publish_lock_days")
            days = int(days) if str(days or "").isdigit() and int(days) > 0 else PUBLISH_LOCK_DAYS
            client = profile._client()

            def to_s3(checkpoint, data, profile=profile, client=client, days=days):
                until = datetime.now(timezone.utc) + timedelta(days=days)
                key = publish.checkpoint_key(profile.prefix, self._database_uuid(),
                                             checkpoint.number)
                return publish.publish_s3(client, profile.bucket, key, data, until)
            targets.append((f"S3 ({profile.name})", to_s3))
        url = params.get_param("audit_trail.publish_url")
        if url:
            token = os.environ.get("AUDIT_PUBLISH_TOKEN") or tools.config.get("audit_publish_token")

            def to_https(_checkpoint, data, url=url, token=token):
                return publish.publish_https(url, token, data)
            targets.append((url, to_https))
        return targets

    @api.model
    def _publish_pending(self):
        """Publish the signed checkpoints not yet published, in number order,
        to every target. Stops at the first failure, alerts the Owner and
        Admins, and starts there again next time. Returns how many went out."""
        cr = self.env.cr
        number = None
        try:
            targets = self._publication_targets()
            if not targets:
                return 0
            cr.execute("SELECT pg_try_advisory_xact_lock(hashtext('audit_trail.publish'))")
            if not cr.fetchone()[0]:
                return 0  # another worker is publishing
            cr.execute("SELECT coalesce(last_published, 0) FROM audit_chain_state WHERE id = 1")
            last = cr.fetchone()[0]
            uuid, done = self._database_uuid(), 0
            # sudo: checkpoints are not per-user records; all of them are published
            for checkpoint in self.sudo().search([("number", ">", last)], order="number"):
                number = checkpoint.number
                data = publish.body(checkpoint._as_dict(uuid))
                for _label, target in targets:
                    target(checkpoint, data)
                cr.execute("UPDATE audit_chain_state SET last_published = %s WHERE id = 1",
                           [number])
                done += 1
            return done
        except (publish.PublishError, UserError) as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 (S3 client errors: reported, retried next time)
            reason = f"{type(exc).__name__}: {exc}"
        _logger.warning("audit checkpoint %s not published: %s", number or "", reason)
        self.env["audit.alert"].raise_alert(
            "checkpoint_unpublished", self.env._("A signed checkpoint was not published"),
            self.env._("Checkpoint %(number)s could not be published outside the database: "
                       "%(reason)s. It is tried again at the next verification.",
                       number=number or "-", reason=reason),
            severity="warning", key=str(number or "config"), dedupe_minutes=24 * 60)
        self.invalidate_model(["published"])
        return 0

    def _publish_after_commit(self):
        """Once the checkpoint is committed (never before: a checkpoint rolled
        back must not be out there), on a cursor of its own."""
        try:
            with self.env.registry.cursor() as cr:
                self.with_env(self.env(cr=cr))._publish_pending()
        except Exception:
            _logger.exception("publishing audit checkpoints failed")

    def _payload(self, uuid):
        self.ensure_one()
        return chain.checkpoint_payload(uuid, self.sequence, self.hash, self.signed_at.isoformat(),
                                        self.number or None, self.prev if self.number else None,
                                        self.digest_v2_from if self.number else None)

    def _as_dict(self, uuid):
        self.ensure_one()
        return {"database": uuid, "number": self.number or None, "prev": self.prev or None,
                "v2_from": self.digest_v2_from if self.number else None,
                "sequence": self.sequence, "hash": self.hash,
                "signed_at": self.signed_at.isoformat(), "signature": self.signature,
                "key_id": self.key_id}

    @api.model
    def _verify_checkpoints(self):
        """Each checkpoint past the anchor must still match the chain; with
        the signing key, each must be signed, numbered without gaps (the
        last one is the number the chain state recorded), in order, and
        linked to the one before."""
        cr = self.env.cr
        cr.execute("""
            SELECT c.sequence, c.hash, e.hash
              FROM audit_checkpoint c
              JOIN audit_chain_state s ON s.id = 1
              LEFT JOIN audit_event e ON e.sequence = c.sequence
             WHERE c.sequence > s.anchor_sequence
               AND (c.hash IS NULL OR e.hash IS DISTINCT FROM c.hash)
             ORDER BY c.sequence LIMIT 1
        """)
        row = cr.fetchone()
        if row:
            return {"sequence": row[0], "reason": "missing" if row[2] is None else "checkpoint"}
        key = self._private_key()
        if not key:
            return None
        pem, uuid = chain.public_key_pem(key), self._database_uuid()
        current = chain.key_id(pem)
        # every checkpoint, whatever key it says signed it: those of the
        # current key must verify; an earlier key's numbered ones are vouched
        # for by the links from the current key's after them, and the last
        # one must be the current key's (a rewrite of them all shows there)
        # (the first checkpoints, before numbering, link nothing: only the
        # current key's are checked, as before)
        checkpoints = self.search(["|", ("number", "!=", False), ("key_id", "=", current)],
                                  order="number asc nulls first, sequence asc")
        records = [cp._as_dict(uuid) for cp in checkpoints]
        numbered = [record for record in records if record["number"]]
        earlier = {record["number"] for record in numbered if record["key_id"] != current}
        problems = [(label, reason) for label, reason in chain.checkpoint_problems(records, pem)
                    if not (reason == "signature" and label in earlier)]
        if numbered and numbered[-1]["key_id"] != current:
            problems.append((numbered[-1]["number"], "signature"))
        cr.execute("SELECT coalesce(last_checkpoint, 0) FROM audit_chain_state WHERE id = 1")
        last_number = cr.fetchone()[0]
        if numbered and numbered[0]["number"] != 1:
            problems.append((1, "missing"))
        if (numbered[-1]["number"] if numbered else 0) != last_number:
            problems.append((last_number, "missing"))
        if problems:
            number, reason = min(problems, key=lambda problem: problem[0])
            return {"sequence": number, "reason": f"checkpoint {reason}"}
        return None

    @api.model
    def _export_lines(self):
        self.check_access("read")
        key = self._private_key()
        if not key:
            raise UserError(self.env._(
                "No audit signing key is configured (AUDIT_SIGNING_KEY or audit_signing_key in "
                "odoo.conf): there are no checkpoints to export."))
        pem, uuid = chain.public_key_pem(key), self._database_uuid()
        lines = [json.dumps({"type": "public_key", "public_key": pem, "key_id": chain.key_id(pem),
                             "database": uuid})]
        # every checkpoint: the export is the off-database copy of all of them
        # (sudo after the read check above: checkpoints are not per-user records)
        for cp in self.sudo().search(  # pylint: disable=no-search-all
                [], order="number asc nulls first, sequence asc"):
            lines.append(json.dumps(cp._as_dict(uuid)))
        return lines

    @api.model
    def _final_export(self):
        """Before the audit trail goes (uninstall): a last event, sealed; a
        checkpoint of the head, signed; and an export of the whole chain with
        its checkpoints, written outside the database (data_dir, or
        audit_final_export_dir in odoo.conf). Returns the file's path."""
        if not self._private_key():
            raise UserError(self.env._(
                "The audit trail can only be removed with a signing key configured "
                "(AUDIT_SIGNING_KEY or audit_signing_key in odoo.conf): it first leaves a "
                "signed checkpoint and an export of the whole chain."))
        Event = self.env["audit.event"].sudo()
        principal = actor.acting_uid(self.env)
        # the last event of the chain, sealed with everything before it
        Event.log("security_event", "audit_trail.uninstall",
                  user=self.env["res.users"].browse(principal),
                  details={"database": self.env.cr.dbname})
        while Event._seal(wait=True):
            pass
        self._checkpoint_head()
        self._publish_pending()  # now: after the uninstall, nothing is left to publish it
        lines = self._export_lines_all()
        folder = tools.config.get("audit_final_export_dir") or os.path.join(
            tools.config["data_dir"], "audit_trail", self.env.cr.dbname)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        stamp = datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        path = os.path.join(folder, f"final-{stamp}.jsonl")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        _logger.warning("audit trail of %s exported to %s before its removal",
                        self.env.cr.dbname, path)
        self.env["audit.alert"].raise_alert(
            "audit_trail_removed", self.env._("The audit trail is being removed"),
            self.env._("%(user)s is uninstalling the audit trail. Its events, checkpoints and "
                       "a signed final checkpoint were exported to %(path)s on the server.",
                       user=self.env["res.users"].sudo().browse(principal).name
                       or self.env._("The server"), path=path),
            severity="critical", dedupe_minutes=0)
        return path

    @api.model
    def _export_lines_all(self):
        """The checkpoint export followed by every sealed event, oldest first."""
        lines = self.sudo()._export_lines()
        uuid = self._database_uuid()
        Event = self.env["audit.event"].sudo()
        last = 0
        while True:
            events = Event.search([("sequence", ">", last)], order="sequence", limit=5000)
            if not events:
                break
            for event in events:
                lines.append(json.dumps({"type": "event", "database": uuid, "digest": event.digest,
                                         **event._export_row()}, sort_keys=True))
            last = events[-1].sequence
            events.invalidate_recordset()
        return lines

    def action_export(self):
        return {"type": "ir.actions.act_url", "url": "/audit/checkpoints.jsonl", "target": "self"}
