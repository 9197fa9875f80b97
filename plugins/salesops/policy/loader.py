"""Reading policy: include/config, an optional overlay folder, validation, one cache.

The overlay folder (``SALESOPS_CONFIG_DIR``, read when policy is first loaded, not at import) holds
only what differs from include/config: a file there is laid over the file of the same name with
:func:`salesops.policy.merge.deep_merge` (mappings merge key by key, lists and scalars replace).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from salesops import paths
from salesops.policy.errors import ConfigError, describe
from salesops.policy.merge import deep_merge, sets_path
from salesops.policy.models import FILES

log = logging.getLogger(__name__)
ENV_VAR = "SALESOPS_CONFIG_DIR"
M = TypeVar("M", bound=BaseModel)

_raw_cache: dict[tuple[str, Path | None], dict[str, Any]] = {}
_model_cache: dict[tuple[str, Path | None], BaseModel] = {}
_reset_hooks: list[Callable[[], None]] = []
_checked_overlays: set[Path] = set()


def base_dir() -> Path:
    """include/config: the complete, shipped policy."""
    return paths.CONFIG_DIR


def overlay_dir() -> Path | None:
    """The folder named by ``SALESOPS_CONFIG_DIR``, or None when it is unset or empty.

    Raises:
        ConfigError: the variable names something that is not a folder.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return None
    folder = Path(value).expanduser().resolve()
    if not folder.is_dir():
        raise ConfigError(f"{ENV_VAR}={value}: no such folder (it should hold policy overlay files)")
    if folder == base_dir().resolve():
        return None  # pointing at include/config itself is the same as no overlay
    return folder


def stem(name: str) -> str:
    """``"stages.yaml"`` / ``"stages"`` -> ``"stages"``; an unknown file is an error naming the known ones."""
    key = name.removesuffix(".yaml").removesuffix(".yml")
    if key not in FILES:
        raise ConfigError(
            f"unknown policy file {name!r}; include/config has {sorted(f + '.yaml' for f in FILES)} "
            "(a new file needs a model in plugins/salesops/policy/models/)"
        )
    return key


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.PROJECT_ROOT))
    except ValueError:
        return str(path)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{_shown(path)}:{at} not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{_shown(path)}: (top level): got a {type(data).__name__}; expected a mapping of keys to values"
        )
    return data


def _warn_unknown_overlay_files(overlay: Path) -> None:
    if overlay in _checked_overlays:
        return
    _checked_overlays.add(overlay)
    known = {f"{f}.yaml" for f in FILES}
    for path in sorted(overlay.rglob("*.yaml")):
        rel = path.relative_to(overlay).as_posix()
        if rel not in known:
            log.warning("%s: %s overrides no policy file (known: %s); ignored", ENV_VAR, rel, sorted(known))


def _sources(key: str, overlay: Path | None) -> tuple[Path, Path | None]:
    base = base_dir() / f"{key}.yaml"
    if not base.exists():
        raise ConfigError(f"policy file not found: {_shown(base)}")
    over = overlay / f"{key}.yaml" if overlay is not None else None
    return base, (over if over is not None and over.exists() else None)


def validate(
    name: str, data: dict[str, Any], where: Callable[[Sequence[str | int]], str] | None = None
) -> Any:
    """Validate in-memory ``data`` as policy file ``name``; the model, or one readable ConfigError."""
    key = stem(name)
    try:
        return FILES[key].model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, f"{key}.yaml", where)) from None


def _load(key: str, overlay: Path | None) -> tuple[dict[str, Any], BaseModel]:
    base_path, over_path = _sources(key, overlay)
    data = _read(base_path)
    over: dict[str, Any] = {}
    if over_path is not None:
        over = _read(over_path)
        data = deep_merge(data, over)

    def where(loc: Sequence[str | int]) -> str:
        if over_path is not None and sets_path(over, list(loc)):
            return _shown(over_path)
        return _shown(base_path)

    model = validate(key, data, where)
    return _with_dict_defaults(key, data), model


def _with_dict_defaults(key: str, data: dict[str, Any]) -> dict[str, Any]:
    """The merged mapping with the defaults dict-style readers index directly (``s["required_fields"]``).

    The typed model defaults an optional key; the mapping must too, or a valid overlay that leaves
    the key out (a stage with no ``required_fields``: no required fields) crashes those readers with
    a KeyError.
    """
    if key == "stages" and isinstance(data.get("stages"), list):
        data = {**data, "stages": [{"required_fields": [], **s} for s in data["stages"]]}
    return data


def _resolve_overlay(overlay: Path | None | bool) -> Path | None:
    if overlay is True:
        return overlay_dir()
    if overlay is False or overlay is None:
        return None
    return Path(overlay).resolve()


def _cached(name: str, overlay: Path | None | bool) -> tuple[dict[str, Any], BaseModel]:
    key = stem(name)
    folder = _resolve_overlay(overlay)
    if folder is not None:
        _warn_unknown_overlay_files(folder)
    if overlay not in (True, False, None):
        return _load(key, folder)  # an explicit folder (tests, what-if): read fresh every time
    cache_key = (key, folder)
    if cache_key not in _model_cache:
        data, model = _load(key, folder)
        _raw_cache[cache_key], _model_cache[cache_key] = data, model
    return _raw_cache[cache_key], _model_cache[cache_key]


def load(name: str, overlay: Path | None | bool = True) -> Any:
    """The validated model of one policy file (cached until :func:`reset`, except explicit folders).

    Args:
        name: ``"stages"``, ``"stages.yaml"`` or ``"sources/hubspot"``.
        overlay: True (default) = the ``SALESOPS_CONFIG_DIR`` overlay if set; a folder = that
            folder as the overlay (tests, what-if runs); None/False = include/config alone.

    Raises:
        ConfigError: ``<file>: <key path>: got <value>; expected <what>`` for the first problems.
    """
    return _cached(name, overlay)[1]


def raw(name: str, overlay: Path | None | bool = True) -> dict[str, Any]:
    """The merged, validated mapping of one policy file, as YAML gave it (no defaults filled in).

    For code that still reads policy as dictionaries; the same object is returned on every call
    until :func:`reset`, so treat it as read-only.
    """
    return _cached(name, overlay)[0]


def typed(model: type[M], name: str, overlay: Path | None | bool = True) -> M:
    """:func:`load` with the model class named, for type checkers."""
    value = load(name, overlay)
    if not isinstance(value, model):
        raise TypeError(f"{name} is a {type(value).__name__}, not a {model.__name__}")
    return value


def on_reset(hook: Callable[[], None]) -> Callable[[], None]:
    """Register a cache of derived policy (e.g. ``functools.lru_cache.cache_clear``) for :func:`reset`."""
    _reset_hooks.append(hook)
    return hook


def reset() -> None:
    """Forget every loaded policy file and derived cache (tests; after changing the overlay)."""
    _raw_cache.clear()
    _model_cache.clear()
    _checked_overlays.clear()
    for hook in _reset_hooks:
        hook()


def validate_all(overlay: Path | None | bool = True) -> list[str]:
    """Load every policy file; the problems found (empty = all valid). For ``make check``-style use."""
    problems = []
    for key in FILES:
        try:
            load(key, overlay)
        except ConfigError as exc:
            problems.append(str(exc))
    return problems
