from . import auth_throttle
from . import res_users
