from . import test_backup
from . import test_failures
from . import test_retention
from . import test_access
from . import test_cli
from . import test_tours
from . import test_hardening
from . import test_owner_only
