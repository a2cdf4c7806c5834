"""Request-scoped logging context: the trace id set by the inbound middleware."""

from contextvars import ContextVar

trace_id_var = ContextVar("trace_id", default="")
