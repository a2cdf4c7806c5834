"""proplint: find and fix lost trace/request context at thread, HTTP and messaging boundaries."""

__version__ = "0.1.0"
