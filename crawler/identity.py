"""Who the crawler says it is: the one User-Agent builder, for the crawl and for
``newsarchive extract URL`` alike."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from crawler.settings import NEWSARCHIVE_CONTACT

__all__ = ["project_version", "user_agent"]


def project_version() -> str:
    try:
        return version("newsarchive")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0"


def user_agent(contact: str | None = None) -> str:
    """``newsarchive/VERSION (+CONTACT)``; ``contact`` defaults to ``NEWSARCHIVE_CONTACT``."""
    return f"newsarchive/{project_version()} (+{contact or NEWSARCHIVE_CONTACT})"
