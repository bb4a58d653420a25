"""Every command has --help with an example, and docs/CLI.md matches them."""

from __future__ import annotations

from pathlib import Path

from scoot.cli.reference import _walk, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "CLI.md"


def test_every_command_has_help_with_an_example() -> None:
    from scoot.cli import cli

    helps = dict(_walk(cli, ["scoot"], None))
    assert len(helps) > 10
    for name, text in helps.items():
        assert "Example:" in text, f"`{name} --help` shows no example"
        assert "(not implemented yet)" not in text, name


def test_cli_reference_is_current() -> None:
    assert DOC.read_text() == render(), "docs/CLI.md is stale: python -m scoot.cli.reference > docs/CLI.md"
