"""Build ``build/typecheck/callscope``: the package as it is installed, out of symlinks.

The stage folders install under other names (``instrumentation/`` is
``callscope.instrumentation``), which a type checker cannot see from the source
tree. This mirrors the installed layout so mypy checks the code under the
names the code imports it by; error paths point back to the real files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("instrumentation", "collector", "analytics", "dashboard")


def build(target: Path = ROOT / "build" / "typecheck") -> Path:
    package = target / "callscope"
    if target.exists():
        shutil.rmtree(target)
    package.mkdir(parents=True)
    for entry in (ROOT / "callscope").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for stage in STAGES:
        (package / stage).symlink_to(ROOT / stage)
    return target


if __name__ == "__main__":
    print(build())
