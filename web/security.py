"""The Content-Security-Policies: our pages run no script; an archived page runs nothing and loads nothing."""

from __future__ import annotations

# Our own pages: no script at all, nothing loaded from elsewhere.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# An archived page: a sandbox (no scripts, no forms, an opaque origin) that may load nothing at all.
RAW_CSP = (
    "sandbox; default-src 'none'; img-src 'none'; media-src 'none'; font-src 'none'; "
    "connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'; style-src 'unsafe-inline'"
)
