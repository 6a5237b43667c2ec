"""``.env.example`` is the one configuration reference: it documents exactly what the code reads."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def variables_read() -> set[str]:
    """Every ``env_*("NAME", ...)`` call in config/ (the settings and how the processes run)."""
    names = set()
    for path in (ROOT / "config").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id.startswith("env_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def variables_documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_setting_the_code_reads_is_documented_in_env_example():
    assert variables_read() - variables_documented() == set()


def test_env_example_documents_nothing_the_code_does_not_read():
    assert variables_documented() - variables_read() == set()
