"""The ``sitecustomize`` that ``callscope run`` puts first on ``PYTHONPATH`` (see ``sitecustomize.py``).

Only this folder's path is exported; it is not imported as a package.
"""

from __future__ import annotations

from pathlib import Path

#: The folder to prepend to ``PYTHONPATH``.
BOOTSTRAP_DIR = str(Path(__file__).resolve().parent)
#: Set by ``callscope run``; the bootstrap does nothing without it.
ENV_RUN = "CALLSCOPE_RUN"
