from onesource.catalog.models import Base
from onesource.catalog.settings import Settings
from onesource.kit.migrations import run_env

run_env(Base.metadata, Settings)
