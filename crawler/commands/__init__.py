

from rich.console import Console


def table_console() -> Console:
    """A console for printing tables: piped or redirected output is not cut to 80 columns."""
    console = Console()
    return console if console.is_terminal else Console(width=200)
