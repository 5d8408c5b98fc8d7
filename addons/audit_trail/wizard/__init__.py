from . import security_ownership_transfer
