from onesource.exchange.models import Base
from onesource.exchange.settings import Settings
from onesource.kit.migrations import run_env

run_env(Base.metadata, Settings)
