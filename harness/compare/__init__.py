"""Compare two runs of the same eval set: deltas, significance, flips, causes, a CI gate."""
