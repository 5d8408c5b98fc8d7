from . import auth_throttle
from . import res_users
from . import res_users_totp
