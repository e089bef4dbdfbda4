"""The README's promises: the two commands, and every command documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crawler.cli import main

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", README)


def test_readme_opens_with_the_demo_and_the_test_command() -> None:
    demo, tests = _readme_commands()[:2]
    assert demo.endswith("newsarchive demo")
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_commands()[1] in ci.splitlines()


def test_every_command_is_documented_with_examples() -> None:
    runner = CliRunner()
    for name in main.list_commands(click.Context(main)):
        command = main.get_command(click.Context(main), name)
        assert command is not None
        assert f"newsarchive {name}" in README, f"README does not document `newsarchive {name}`"
        help_text = runner.invoke(main, [name, "--help"]).output
        assert "Example" in help_text, f"`newsarchive {name} --help` has no examples"
        if hasattr(command, "commands"):  # a group such as `db`
            for sub in command.commands:
                assert f"newsarchive {name} {sub}" in README


def test_bad_command_line_arguments_are_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["--no-such-option"])
    assert result.exit_code == 2
    assert "No such option" in result.output


# -- every Markdown file renders sanely ---------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", ".pytest_cache", ".mypy_cache", ".ruff_cache", "build"}


def _markdown_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.md")
        if not _SKIP_DIRS.intersection(part for part in path.relative_to(ROOT).parts)
        and not any(part.endswith(".egg-info") for part in path.parts)
    )


def unclosed_fence(text: str) -> int | None:
    """The line number of a code fence that is not closed, else None. CommonMark closes a
    fence only with the opening character, at least as many, and nothing after it: a line
    such as "``` Times are stored in UTC" inside a block looks closed in an editor and is
    not — the block runs on and every fence after it pairs the wrong way."""
    opened: tuple[str, int] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        match = _FENCE.match(line)
        if not match:
            continue
        fence, rest = match.groups()
        if opened is None:
            if fence[0] == "`" and "`" in rest:
                continue  # ```code``` inline, not a fence
            opened = (fence, number)
        elif fence[0] == opened[0][0] and len(fence) >= len(opened[0]):
            if rest.strip():
                return opened[1]  # meant to close it, but text follows the fence
            opened = None
    return opened[1] if opened else None


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    return {_slug(tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"}


def _links(text: str) -> list[str]:
    from markdown_it import MarkdownIt

    targets: list[str] = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        for child in token.children or []:
            if child.type == "link_open":
                targets.append(str(child.attrGet("href")))
            elif child.type == "image":
                targets.append(str(child.attrGet("src")))
    return targets


def test_the_markdown_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    assert unclosed_fence("text\n```\ncode\n``` not a close\n") == 2
    assert unclosed_fence("```\na\n``` text\n\n```\nb\n```\n") == 1  # pairs up again, wrongly
    assert unclosed_fence("````\n```\n````\n~~~toml\nx\n~~~\n") is None
    assert _slug("`newsarchive serve`") == "newsarchive-serve"
    assert _slug("Date truths the pages contradict") == "date-truths-the-pages-contradict"
    assert _links("[a](b.md) `[c](d.md)` ![i](img/x.png)\n\n```\n[e](f.md)\n```\n") == ["b.md", "img/x.png"]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_renders_sanely(path: Path) -> None:
    """First-hour surprise 4: an unclosed code block turned docs/archive.md's Commands
    section and field table into code. Fences close; relative links and anchors resolve."""
    text = path.read_text(encoding="utf-8")
    line = unclosed_fence(text)
    assert line is None, f"{path.relative_to(ROOT)}:{line}: this code fence is never closed"
    for target in _links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
            continue  # an absolute URL: not checked offline
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.exists(), f"{path.relative_to(ROOT)}: link to {target} does not resolve"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), (
                f"{path.relative_to(ROOT)}: no heading #{anchor} in {file_part}"
            )


# -- the README's examples run as written against the demo archive ------------------------------

# commands that only read (or re-derive) the archive: they run offline against the demo's
OFFLINE_COMMANDS = {"search", "show", "export", "stats", "runs", "list", "reextract"}
FINDS_SOMETHING = {"search", "show", "export", "list"}  # an example that finds nothing is a broken promise


def readme_examples() -> list[str]:
    """Every `newsarchive …` line of the README's code blocks that reads the archive offline
    (not one naming its own --db, a URL to fetch or a file to import)."""
    examples = []
    for block in re.findall(r"^ *```[a-z]*\n(.*?)^ *```", README, re.S | re.M):
        for raw in block.splitlines():
            line = raw.strip()
            words = line.split()
            if len(words) < 2 or words[0] != "newsarchive" or words[1] not in OFFLINE_COMMANDS:
                continue
            examples.append(line)
    return examples


def test_the_readme_has_offline_examples_for_every_reading_command() -> None:
    covered = {line.split()[1] for line in readme_examples()}
    assert {"search", "show", "export", "runs", "stats", "reextract"} <= covered


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess
    import sys

    where = tmp_path_factory.mktemp("readme")
    db = where / "archive.db"
    done = subprocess.run([sys.executable, "-m", "crawler", "--db", str(db), "demo"], cwd=where,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return db


@pytest.mark.slow
@pytest.mark.parametrize("example", readme_examples())
def test_readme_example_runs_against_the_demo_archive(
    example: str, demo_archive: Path, tmp_path: Path
) -> None:
    """First-hour surprise 8: the README's examples used `--site xunjk` where the demo stores
    `demo`, and found nothing."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NEWSARCHIVE_DB": str(demo_archive)}
    env.pop("NEWSARCHIVE_CONFIG", None)
    script = f'newsarchive() {{ "{sys.executable}" -m crawler "$@"; }}\nset -o pipefail\n{example}\n'
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, f"{example}\n{done.stderr[-2000:]}"
    assert "Error" not in done.stderr and "Warning" not in done.stderr, done.stderr[-2000:]
    if example.split()[1] in FINDS_SOMETHING:
        written = [path for path in tmp_path.rglob("*") if path.is_file() and path.stat().st_size]
        assert done.stdout.strip() or written, f"{example} found nothing"
        said = done.stdout + done.stderr
        assert not re.search(r"(?<![\d.,])0 (hit|article)|no article", said), f"{example}: {said[:500]}"
        assert done.stdout.strip() not in ("[]", "{}"), f"{example} found nothing"
