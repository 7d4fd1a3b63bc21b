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
    """Create or refresh the tree; safe to run while another run uses it."""
    package = target / "callscope"
    package.mkdir(parents=True, exist_ok=True)
    wanted = {entry.name: entry for entry in (ROOT / "callscope").iterdir() if entry.name != "__pycache__"}
    wanted.update({stage: ROOT / stage for stage in STAGES})
    for link in package.iterdir():
        if link.name not in wanted or not link.exists():
            link.unlink() if link.is_symlink() else shutil.rmtree(link)
    for name, source in wanted.items():
        link = package / name
        if not link.is_symlink():
            link.symlink_to(source)
    return target


if __name__ == "__main__":
    print(build())
