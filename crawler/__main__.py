"""``python -m crawler`` is ``newsarchive`` (used to start crawls in fresh processes)."""

from crawler.cli import main

if __name__ == "__main__":
    main(prog_name="newsarchive")
