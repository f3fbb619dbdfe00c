"""The release calendar: embargoed vintages, their release and its events."""
