"""numpy, imported on its first use instead of at start-up: a check whose splits all come
from the cache never needs it, and importing it is the biggest part of a small check's
start-up. Every module of the package takes numpy from here (`from poselint.lazy import np`).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["lazy_import", "np"]


def lazy_import(name: str) -> ModuleType:
    """The module `name`, executed on the first access to one of its attributes
    (importlib.util.LazyLoader); already imported, the module itself."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_import("numpy")
