from . import test_chain
from . import test_capture
from . import test_retention
from . import test_alerts
from . import test_siem
from . import test_sentry
from . import test_admin_outside
from . import test_company
