from . import test_workflow
from . import test_sla
from . import test_intake
from . import test_leak
from . import test_tour
from . import test_review
from . import test_audit_confidential
from . import test_outside_admin
