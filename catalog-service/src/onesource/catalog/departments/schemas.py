"""What the catalog reads from the gateway's department events."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

DEPARTMENT_TOPIC = "onesource.identity.department.v1"
REGISTERED = "gov.onesource.identity.department.registered.v1"


class DepartmentData(BaseModel):
    """The ``data`` of a department event (other attributes the gateway sends are ignored)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore")

    code: str
    """The department's short code (also the event subject): what a resource's ``provider`` names."""
    name: str
    """Its official name (the export's publisher name)."""
    uscc: str
    """Its unified social credit code (GB 32100-2015), the publisher's identifier in exports."""
