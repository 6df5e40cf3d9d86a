"""The quarterly report: one self-contained, offline HTML file."""
