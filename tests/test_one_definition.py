"""One definition of each thing (issue 9): project settings declared once with their default
and documented, read without a second default; stats keys only from core/keys.py."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from crawler import settings as project_settings

ROOT = Path(__file__).resolve().parents[1]
CODE = [
    p for d in ("core", "crawler", "spiders", "pipelines", "storage", "web") for p in (ROOT / d).rglob("*.py")
]
OURS = re.compile(r"^(?:NEWSARCHIVE|EXTRACT|STORE)_[A-Z_]+$")
READ = re.compile(r"settings(?:\.get[a-z]*\(|\[)\s*[\"']([A-Z_]+)[\"']\s*(,)?")


def _declared() -> set[str]:
    return {name for name in vars(project_settings) if OURS.match(name)}


def test_every_setting_read_is_declared_once_and_without_a_second_default() -> None:
    declared = _declared()
    for path in CODE:
        for match in READ.finditer(path.read_text(encoding="utf-8")):
            name, has_default = match.group(1), match.group(2)
            if not OURS.match(name):
                continue
            where = f"{path.relative_to(ROOT)}: {name}"
            assert name in declared, f"{where} is read but not declared in crawler/settings.py"
            assert not has_default, f"{where} repeats its default where it is read"


def test_every_project_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_cells = re.findall(r"^\|([^|\n]*)\|", readme, re.M)
    table = {name for cell in first_cells for name in re.findall(r"`([A-Z_]+)`", cell)}
    assert _declared() - table == set()


def test_stats_keys_are_named_only_in_core_keys() -> None:
    literal = re.compile(r"""(?<![\w.])[rfb]?["']newsarchive/(?!\{)""")  # "newsarchive/{version}" is the UA
    for path in CODE:
        if path == ROOT / "core" / "keys.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            assert not literal.search(code), f"{path.relative_to(ROOT)}:{number}: a stats key literal"


def test_each_setting_is_assigned_once_in_crawler_settings() -> None:
    tree = ast.parse((ROOT / "crawler" / "settings.py").read_text(encoding="utf-8"))
    names = Counter(
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    )
    assert [name for name, count in names.items() if count > 1] == []
