"""The routing graph: skills as nodes; similarity, confusion, near-miss, reference and
exclusion edges; collisions and orphans derived from a run's records."""
