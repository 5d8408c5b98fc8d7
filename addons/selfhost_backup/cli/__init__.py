from . import selfhost_backup
