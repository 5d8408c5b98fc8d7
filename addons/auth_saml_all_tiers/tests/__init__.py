from . import test_mfa_policy
from . import test_passwords
from . import test_saml
from . import test_throttle
from . import test_totp
from . import test_owner_login
from . import test_redirects
from . import test_passkeys
