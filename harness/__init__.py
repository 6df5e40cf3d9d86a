"""skill-harness: measure how an agent skill library gets routed."""

__version__ = "0.2.0"
