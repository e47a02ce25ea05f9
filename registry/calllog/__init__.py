"""The call log: one record per call leg and a hash-chained event log."""
