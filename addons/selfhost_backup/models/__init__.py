from . import selfhost_backup_profile
from . import selfhost_backup_run
from . import ir_cron
