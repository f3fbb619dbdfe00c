from kit_widgets.app import Base

from onesource.kit.migrations import run_env
from onesource.kit.settings import ServiceSettings

run_env(Base.metadata, ServiceSettings)
