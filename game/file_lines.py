"""Where in a game file an error is: the line of ``checkpoints[2].lat`` in the text.

The loader names every problem by its entry and field (``game.definition``); the console
shows each one against its line of the file. YAML (and JSON, which YAML reads too) is
composed into nodes that remember their line; the deepest node the location reaches gives
the line. None when the text cannot be read or the location is not in it.
"""

from __future__ import annotations

import re

import yaml

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parts_of(location: str) -> list[str | int]:
    return [int(i) if i else name for name, i in _PART.findall(location)]


def line_of(text: str, location: str) -> int | None:
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line: int | None = None
    for part in parts_of(location):
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = next((pair for pair in node.value if pair[0].value == part), None)
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
