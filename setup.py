"""Package discovery that pyproject.toml alone cannot express.

``plugins/`` ships under the import name ``aetherops_plugins`` (a name no other
distribution uses) and ``profiles/`` ships inside the package as
``aetherops._profiles`` so the embedded ``local`` profile works from a wheel.
"""

from setuptools import find_packages, setup

packages = find_packages(include=["aetherops", "aetherops.*"])
packages += ["aetherops_plugins"] + [f"aetherops_plugins.{p}" for p in find_packages("plugins")]
packages += ["aetherops._profiles"]

setup(
    packages=packages,
    package_dir={"aetherops_plugins": "plugins", "aetherops._profiles": "profiles"},
)
