from onesource.kit.migrations import run_env
from onesource.population.models import Base
from onesource.population.settings import Settings

run_env(Base.metadata, Settings)
