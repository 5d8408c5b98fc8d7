from . import controllers
from . import models
from . import wizard


def post_load():
    from .sentry_setup import setup
    setup()

