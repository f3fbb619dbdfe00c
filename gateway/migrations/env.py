from onesource.gateway.models import Base
from onesource.gateway.settings import Settings
from onesource.kit.migrations import run_env

run_env(Base.metadata, Settings)
