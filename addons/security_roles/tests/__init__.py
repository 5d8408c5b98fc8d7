from . import test_roles
from . import test_owner
from . import test_viewer
from . import test_apikeys
from . import test_permission_matrix
from . import test_access_review
from . import test_owner_rpc
from . import test_tours
