"""The overlay rule: mappings merge key by key (recursively), everything else replaces."""

from __future__ import annotations

import copy
from typing import Any


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """A new mapping: ``base`` with ``overlay`` laid over it.

    - A key only in ``base`` is kept; a key only in ``overlay`` is added.
    - Where both hold a mapping, the two are merged the same way (so an overlay names only the
      keys it changes, however deep).
    - Anything else in ``overlay`` - a list, a scalar, ``null`` - replaces the base value whole:
      lists are never concatenated (an overlay's ``stages:`` list IS the stage list).

    Neither argument is modified.
    """
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def sets_path(overlay: Any, loc: list[str | int]) -> bool:
    """Whether ``overlay`` decided the value at key path ``loc`` of the merged data.

    True when the overlay holds the whole path, or holds a non-mapping (a list that replaced the
    base list, a scalar) on the way to it. Used to name the file a bad value came from.
    """
    node = overlay
    for part in loc:
        if not isinstance(node, dict):
            return True
        if part not in node:
            return False
        node = node[part]
    return True
