"""The process's limit on open files, raised before the daemon listens (see `connection_guard`)."""

from __future__ import annotations

import contextlib

__all__ = ["raise_file_limit"]


def raise_file_limit() -> int | None:
    """Raise the soft limit on open files to the hard limit (the default soft limit, often 1,024, is what
    an abusive client exhausts first); returns the new limit, or None where the platform has none."""
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
