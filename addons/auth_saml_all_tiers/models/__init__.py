from . import auth_throttle
from . import auth_saml_provider
from . import res_users
from . import res_users_totp
from . import mfa_policy
from . import res_config_settings
