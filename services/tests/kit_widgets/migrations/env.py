from onesource.kit.migrations import run_env
from onesource.kit.settings import ServiceSettings

from kit_widgets.app import Base

run_env(Base.metadata, ServiceSettings)
