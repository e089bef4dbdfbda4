"""The README's promises: the two commands, and every command documented."""

from __future__ import annotations

import re
from pathlib import Path

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
    for name, command in main.commands.items():
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
