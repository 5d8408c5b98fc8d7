from . import test_passwords
from . import test_throttle
