"""aetherops' built-in plugins, shipped as ``aetherops_plugins`` (one sub-package each).

Each is registered through the ``aetherops`` entry-point group in pyproject.toml,
exactly like a third-party plugin.
"""
