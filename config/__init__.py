"""The one config loader: a tree of frozen dataclasses from a TOML or YAML table, plus ``KEY=VALUE`` overrides.

The daemon (:mod:`pushkin.daemon.settings`), the persona section (:mod:`pushkin.persona.settings`) and the
training recipes (:mod:`pushkin.training.config`) all load through here, so a key, a type error or an
override reads the same everywhere. This package imports nothing of ours and nothing heavy: every layer
may use it. :mod:`.reference` renders the settings dataclasses as the configuration reference.
"""

from .files import config_home, data_home, find_config_file, read_config_file
from .loader import READ_WITH, Checked, ConfigError, apply_overrides, build, load

__all__ = [
    "READ_WITH",
    "Checked",
    "ConfigError",
    "apply_overrides",
    "build",
    "config_home",
    "data_home",
    "find_config_file",
    "load",
    "read_config_file",
]
