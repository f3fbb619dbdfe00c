"""Series keys and time periods: what identifies a series and an observation of a dataflow."""
