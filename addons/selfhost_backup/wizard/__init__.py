from . import selfhost_backup_restore
