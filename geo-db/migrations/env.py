from onesource.geo.models import Base
from onesource.geo.settings import Settings
from onesource.kit.migrations import run_env

run_env(Base.metadata, Settings)
