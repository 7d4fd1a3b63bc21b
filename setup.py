"""Package discovery for the stage folders.

Each top-level stage folder installs as a subpackage of ``callscope`` (see
``package-dir`` in pyproject.toml). setuptools' ``find_packages`` cannot map
folders to other names, so the package list is computed here: every folder
under a stage that holds an ``__init__.py`` becomes ``callscope.<stage>.<sub>``.
"""

from pathlib import Path

from setuptools import setup

STAGES = {
    "callscope": "callscope",
    "callscope.instrumentation": "instrumentation",
    "callscope.collector": "collector",
    "callscope.analytics": "analytics",
    "callscope.dashboard": "dashboard",
}


def _packages() -> list[str]:
    found = []
    for package, folder in STAGES.items():
        root = Path(folder)
        for init in sorted(root.rglob("__init__.py")):
            relative = init.parent.relative_to(root).parts
            found.append(".".join((package, *relative)))
    return found


setup(packages=_packages())
