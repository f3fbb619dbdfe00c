from onesource.kit.migrations import run_env
from onesource.macroeconomy.models import Base
from onesource.macroeconomy.settings import Settings

run_env(Base.metadata, Settings)
