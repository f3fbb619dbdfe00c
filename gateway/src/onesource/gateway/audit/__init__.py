"""The tamper-evident audit log: one hash-chained entry per data call, committed before the answer leaves."""
