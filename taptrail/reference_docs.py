"""The generated reference pages of the documentation: the command line and the HTTP API.

``python -m taptrail.reference_docs`` writes ``docs/command-line.md`` from the ``taptrail``
command's own help and ``docs/api.md`` from the app's OpenAPI description, so the pages say
exactly what the code does. The test suite fails when a page is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kernel.settings import Settings
from taptrail.cli import main as cli_main
from taptrail.server import create_app

DOCS = Path(__file__).resolve().parents[1] / "docs"
WIDTH = 100


def _commands(group: click.Group, ctx: click.Context) -> list[tuple[click.Context, click.Command]]:
    found: list[tuple[click.Context, click.Command]] = []
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = click.Context(command, info_name=name, parent=ctx, max_content_width=WIDTH)
        sub.terminal_width = WIDTH
        if isinstance(command, click.Group):
            found += _commands(command, sub)
        else:
            found.append((sub, command))
    return found


def command_line_page() -> str:
    root = click.Context(cli_main, info_name="taptrail", max_content_width=WIDTH)
    root.terminal_width = WIDTH
    out = [
        "# Command line",
        "",
        "The package installs one command, `taptrail`. Settings come from the environment",
        "([Configuration](deploying/configuration.md)). Every command has `--help`, which prints",
        "what this page shows. This page is generated from the command itself.",
        "",
    ]
    for ctx, command in _commands(cli_main, root):
        out += [f"## `{ctx.command_path}`", "", "```text", command.get_help(ctx), "```", ""]
    return "\n".join(out)


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return f"list of `{name}`" if "items" in schema else f"`{name}`"
    return f"`{schema.get('type', 'object')}`"


def api_page() -> str:

    spec = create_app(Settings()).openapi()
    out = [
        "# API",
        "",
        "Every path is under the server's address. Authentication: `Authorization: Bearer",
        "<token>`; readers sign their bodies instead ([The reader protocol](reader-protocol.md)).",
        'Errors are `{"error": "<code>", "detail": "<sentence>"}`, with `fields` for validation.',
        "A running server also serves this reference interactively at `/docs` and as OpenAPI at",
        "`/openapi.json`. This page is generated from the same description.",
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append((path, method, op))
    for tag in sorted(by_tag):
        out += [f"## {tag}", ""]
        for path, method, op in sorted(by_tag[tag]):
            out += [f"### `{method.upper()} {path}`", "", op.get("summary", "").strip(), ""]
            description = (op.get("description") or "").strip()
            if description:
                out += [description, ""]
            params = op.get("parameters") or []
            if params:
                out += ["| parameter | in | required | description |", "|---|---|---|---|"]
                for p in params:
                    text = " ".join((p.get("description") or "").split())
                    required = "yes" if p.get("required") else "no"
                    out.append(f"| `{p['name']}` | {p['in']} | {required} | {text} |")
                out.append("")
            body = op.get("requestBody", {}).get("content", {})
            if body:
                kinds = ", ".join(f"`{k}`" for k in body)
                schema = next(iter(body.values())).get("schema", {})
                out += [f"Body: {kinds}, {_schema_name(schema)}.", ""]
            codes = ", ".join(f"`{code}`" for code in op.get("responses", {}))
            out += [f"Answers: {codes}.", ""]
    return "\n".join(out)


PAGES = {"command-line.md": command_line_page, "api.md": api_page}


def main() -> None:
    for name, make in PAGES.items():
        (DOCS / name).write_text(make(), encoding="utf-8")
        print(f"wrote docs/{name}", file=sys.stderr)


if __name__ == "__main__":
    main()
