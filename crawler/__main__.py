"""``python -m crawler`` is ``newsarchive`` (used to start crawls in fresh processes).

A crawl's process ends here without the interpreter's teardown once the crawl is over
(:func:`crawler.commands.crawl.teardown_skippable`): the atexit handlers run (logging's
flush among them), then ``os._exit``. The teardown would only free the objects of Scrapy,
Twisted, SQLAlchemy and the crawl (0.5-0.8 s of a crawl of a few hundred pages). Any other
command, and a crawl with a thread still running, ends as usual.
"""

import atexit
import os
import sys
import threading

from crawler.cli import main


def _exit_code(code: object) -> int:
    """What the interpreter makes of ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _run() -> None:
    try:
        main(prog_name="newsarchive")
    except SystemExit as exc:
        crawl = sys.modules.get("crawler.commands.crawl")
        others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
        if crawl is None or not crawl.teardown_skippable() or any(t.is_alive() for t in others):
            raise
        code = _exit_code(exc.code)
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


if __name__ == "__main__":
    _run()
