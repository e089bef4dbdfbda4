"""The project's own exceptions: anything the CLI may show as a one-line error."""

from __future__ import annotations


class NewsArchiveError(Exception):
    """Base class; ``str(exc)`` is the one-line message shown to users."""

    exit_code = 1


class ConfigError(NewsArchiveError):
    """A malformed config file, an unknown site, a bad setting or cron expression."""

    exit_code = 2


class InputError(NewsArchiveError):
    """A file or URL given by the user that cannot be read or used."""


class RunFailed(NewsArchiveError):
    """A run finished but failed: some articles could not be stored (exit 1)."""


class ArchiveUnwritable(RunFailed):
    """A run stopped early: several batches in a row could not be stored at all (a full
    disk, a read-only archive); going on would only fail every article the same way."""


class Busy(NewsArchiveError):
    """Another live process holds what this one was asked to do (a shard of a job)."""
