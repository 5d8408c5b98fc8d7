"""`odoo-bin selfhost-backup`: backups from the host's cron, and verify, list and
restore from a shell. Works with `list_db = False` (it never goes through the
database manager). Odoo finds this command when the addon is on the addons
path given *before* the command name:

    odoo-bin --addons-path=<...> selfhost-backup -c /etc/odoo/odoo.conf -d DB [--profile NAME] [backup|verify|restore|list]
"""
import logging
import optparse
import signal
import sys
from pathlib import Path

from odoo import SUPERUSER_ID, api
from odoo.cli import Command
from odoo.exceptions import UserError
from odoo.tools import config

_logger = logging.getLogger(__name__)

ACTIONS = ("backup", "verify", "restore", "list")


def _split_action(args):
    """The action is the first or the last argument (default: backup)."""
    if args and args[0] in ACTIONS:
        return args[0], args[1:]
    if args and args[-1] in ACTIONS and not (len(args) > 1 and args[-2] in (
            "-d", "--database", "--profile", "--backup-id", "--new-database", "--from-database",
            "-c", "--config")):
        return args[-1], args[:-1]
    return "backup", list(args)


def _terminate(signum, _frame):
    sys.exit(128 + signum)


def _out(line=""):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class SelfhostBackup(Command):
    """Back up, verify, list or restore a database with a backup profile"""
    name = "selfhost-backup"

    def run(self, cmdargs):
        action, args = _split_action(cmdargs)
        parser = config.parser
        parser.prog = f"{Path(sys.argv[0]).name} {self.name} [backup|verify|restore|list]"
        group = optparse.OptionGroup(parser, "Backups", "backup (default): back the database "
                                     "given with -d up; list: its backups; verify: download one "
                                     "and check every hash and tag; restore: into a new database.")
        group.add_option("--profile", dest="backup_profile",
                         help="backup profile name (default: the only active profile)")
        group.add_option("--backup-id", dest="backup_id",
                         help="verify/restore: a backup id from `list` (default: the newest)")
        group.add_option("--new-database", dest="new_database",
                         help="restore: the name of the new database (must not exist)")
        group.add_option("--no-neutralize", dest="no_neutralize", action="store_true",
                         help="restore: keep the copy live (scheduled actions, mail servers, "
                         "database.uuid/secret, backup credentials), to replace a lost "
                         "database; by default the copy is neutralized")
        group.add_option("--from-database", dest="from_database",
                         help="list/verify/restore: the backups of another database (one that "
                         "was lost), with the profile of the database given by -d")
        parser.add_option_group(group)
        opt = config.parse_config(args, setup_logging=True)
        dbname = config["db_name"]
        if not dbname or "," in dbname:
            sys.exit("selfhost-backup needs one database: use -d DATABASE")
        if action == "restore" and not opt.new_database:
            sys.exit("restore needs --new-database NAME (a database that does not exist yet)")
        from odoo.modules.registry import Registry  # noqa: PLC0415 (after the configuration)
        try:
            registry = Registry(dbname)
        except Exception as exc:  # noqa: BLE001 (a missing database, wrong credentials...)
            sys.exit(f"cannot open database {dbname}: {exc}")
        # SIGTERM (the host's cron or systemd stopping us) raises SystemExit, so that the
        # run is recorded as interrupted and its uploads are aborted before we exit
        signal.signal(signal.SIGTERM, _terminate)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            if "selfhost.backup.profile" not in env:
                sys.exit(f"the selfhost_backup module is not installed in {dbname}")
            try:
                profile = self._profile(env, opt.backup_profile)
                code = getattr(self, f"_{action}")(env, profile, opt)
            except UserError as exc:
                _out(f"error: {exc.args[0]}")
                code = 1
            cr.commit()
        sys.exit(code)

    def _profile(self, env, name):
        Profile = env["selfhost.backup.profile"]
        if name:
            profile = Profile.search([("name", "=", name)])
            if not profile:
                raise UserError(f"no backup profile named {name!r}")
            return profile
        profile = Profile.search([])
        if len(profile) != 1:
            raise UserError("choose a profile with --profile NAME (there are "
                            f"{len(profile)} active profiles)")
        return profile

    def _backup(self, env, profile, opt):
        run = profile._run_backup(trigger="cli")
        # the run was written on a cursor of its own: a new transaction sees it
        env.cr.commit()
        if run.state != "done":
            _out(f"backup FAILED: {run.error}")
            return 1
        _out(f"backup {run.backup_id} done: {run.size_display} stored in {run.duration:.1f} s "
             f"({run.throughput:.1f} MiB/s), sha256 {run.sha256}")
        if run.retention_note:
            _out(f"retention: {run.retention_note}")
        return 0

    def _list(self, env, profile, opt):
        for item in profile._list_backups(opt.from_database):
            state = {"good": "complete", "incomplete": "INCOMPLETE (failed run)"}.get(
                item["state"], f"REJECTED ({item['problem']})")
            _out(f"{item['backup_id']}  {state}  {len(item['keys'])} objects")
        return 0

    def _pick(self, profile, opt):
        backup_id = opt.backup_id
        backups = [b for b in profile._list_backups(opt.from_database) if b["complete"]]
        if backup_id:
            backups = [b for b in backups if b["backup_id"] == backup_id]
        if not backups:
            raise UserError(f"no complete backup {backup_id or ''} found for this database "
                            "(only backups whose manifest authenticates with the profile's key "
                            "count: see `list`)")
        return backups[0]

    def _verify(self, env, profile, opt):
        chosen = self._pick(profile, opt)
        try:
            result = profile._verify_manifest(chosen["manifest_key"])
        except UserError as exc:
            _out(f"verify FAILED for {chosen['backup_id']}: {exc.args[0]}")
            return 1
        _out(f"backup {chosen['backup_id']} verified: {result['objects']} objects, "
             f"{result['size']} bytes, every hash and authentication tag checked")
        return 0

    def _restore(self, env, profile, opt):
        chosen = self._pick(profile, opt)
        try:
            result = profile._restore_manifest(chosen["manifest_key"], opt.new_database,
                                               neutralize=not opt.no_neutralize)
        except UserError as exc:
            _out(f"restore FAILED: {exc.args[0]}")
            return 1
        _out(f"backup {chosen['backup_id']} restored into the new database "
             f"{result['database']} in {result['duration']:.1f} s")
        return 0
