"""The local mesh: `onesource up` runs PostgreSQL, Kafka and every service on one machine."""
