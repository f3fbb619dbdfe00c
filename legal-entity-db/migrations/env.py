from onesource.kit.migrations import run_env
from onesource.legal_entity.models import Base
from onesource.legal_entity.settings import Settings

run_env(Base.metadata, Settings)
