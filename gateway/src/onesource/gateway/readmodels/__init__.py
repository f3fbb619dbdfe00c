"""The gateway's read models of other services' data (catalog resources, grants), in its tables and in memory."""
