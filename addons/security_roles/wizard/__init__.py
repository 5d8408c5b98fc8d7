from . import security_ownership_transfer
from . import res_users_apikeys_description
