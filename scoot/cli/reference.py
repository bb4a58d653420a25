"""docs/CLI.md, generated from the commands' own --help (a test fails when it drifts).

Regenerate with `python -m scoot.cli.reference > docs/CLI.md`.
"""

from __future__ import annotations

from collections.abc import Iterator

import click


def _walk(
    command: click.Command, path: list[str], parent: click.Context | None
) -> Iterator[tuple[str, str]]:
    ctx = click.Context(command, info_name=path[-1], parent=parent, terminal_width=88,
                        max_content_width=88)
    yield " ".join(path), command.get_help(ctx)
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, [*path, name], ctx)


def render() -> str:
    from scoot.cli import cli

    parts = [
        "# Command reference\n",
        "Generated from `--help` by `python -m scoot.cli.reference`; do not edit by hand.\n",
    ]
    for name, text in _walk(cli, ["scoot"], None):
        parts.append(f"## `{name}`\n\n```\n{text}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
