"""Maps the repository's top-level folders onto the `pushkin` namespace.

`daemon/` installs as `pushkin.daemon`, `proto/` as `pushkin.proto`, and so on; every folder below them
with an `__init__.py` is a subpackage, found here so that nobody has to list it by hand.
"""

from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
TOP_LEVEL = ["daemon", "proto", "audio_lora", "text_lora", "persona", "training", "clients", "model", "text", "config"]

package_dir = {}
packages = []
for folder in TOP_LEVEL:
    for init in sorted((ROOT / folder).rglob("__init__.py")):
        relative = init.parent.relative_to(ROOT)
        name = "pushkin." + ".".join(relative.parts)
        packages.append(name)
        package_dir[name] = str(relative)

setup(package_dir=package_dir, packages=packages)
