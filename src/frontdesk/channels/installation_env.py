"""A channel's installation settings (pydantic-settings classes read from FRONTDESK_*), read once
per state of the variables they name.

Building such a class reads and validates the environment: about 0.2 ms, which a channel's job
paid again for every provider call (the profile look-up of each new LINE or WeChat contact). The
result is kept per class and per value of its own variables, so an environment that changes
(tests pointing a channel at a new fake provider) is read anew.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

from pydantic_settings import BaseSettings

__all__ = ["read_installation"]

_S = TypeVar("_S", bound=BaseSettings)
_KEPT: dict[tuple[Any, ...], BaseSettings] = {}
_MOST = 64  # environments kept; more only in a test run, which moves on anyway


def read_installation(cls: type[_S]) -> _S:
    prefix = str(cls.model_config.get("env_prefix") or "").upper()
    key = (cls, *(os.environ.get(prefix + name.upper()) for name in cls.model_fields))
    found = _KEPT.get(key)
    if found is None:
        if len(_KEPT) >= _MOST:
            _KEPT.clear()
        found = _KEPT[key] = cls()
    assert isinstance(found, cls)
    return found
