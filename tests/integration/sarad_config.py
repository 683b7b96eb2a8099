# SPDX-License-Identifier: GPL-2.0-or-later
"""sarad's YAML config as the tests write it (etc/dispatcher.yaml schema), without PyYAML:
sarad's loader is strict (true/false only, durations such as 30s, quoted MACs), so the
output is kept simple: top-level keys in block style, values in flow style."""
from __future__ import annotations

import re
from typing import Mapping

_PLAIN = re.compile(r"^[A-Za-z0-9_./-][A-Za-z0-9_./ -]*$")
_RESERVED = {"yes", "no", "on", "off", "true", "false", "null", "~", "y", "n"}


def _scalar(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED and not s.endswith(" "):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _flow(v) -> str:
    if isinstance(v, Mapping):
        return "{" + ", ".join("%s: %s" % (k, _flow(x)) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


def to_yaml(doc: Mapping) -> str:
    """Top-level keys in block style, values in flow style; lists of mappings one per line."""
    out = []
    for k, v in doc.items():
        if v is None:
            continue
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], Mapping):
            out.append("%s:" % k)
            out.extend("  - %s" % _flow(x) for x in v)
        else:
            out.append("%s: %s" % (k, _flow(v)))
    return "\n".join(out) + "\n"


def merge(base: dict, over: Mapping) -> dict:
    """Recursive merge; a None value removes the key."""
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out
