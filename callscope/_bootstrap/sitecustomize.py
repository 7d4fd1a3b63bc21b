"""Instrument a program started by ``callscope run`` before its ``__main__`` runs.

Python imports the first ``sitecustomize`` on ``sys.path`` at start-up; ``callscope
run`` puts this folder first on ``PYTHONPATH``. This module then

1. imports the ``sitecustomize`` it shadows, if any, so the environment's own
   start-up code still runs;
2. calls ``callscope.instrument()``, which reads its settings from the
   environment ``callscope run`` prepared (``CALLSCOPE_DATA``,
   ``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_*``);
3. makes SIGTERM flush the call log before the process dies, unless the program
   has a SIGTERM handler of its own.

It never stops the program: any failure is one line on stderr. Only the
standard library is imported at the top, since the interpreter running the
program may not even have callscope installed.
"""

from __future__ import annotations

import importlib
import os
import sys


def _chain_shadowed_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ours = sys.modules.get(__name__)
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    try:
        del sys.modules[__name__]
        importlib.import_module("sitecustomize")
    except ImportError:
        pass  # nothing to chain
    except Exception as err:  # the environment's own start-up code failed: Python would only warn too
        print(f"callscope: the original sitecustomize failed: {err!r}", file=sys.stderr)
    finally:
        sys.path[:] = saved
        if ours is not None:
            sys.modules[__name__] = ours


def _activate() -> None:
    if os.environ.get("CALLSCOPE_RUN") != "1":
        return
    try:
        import callscope
    except ImportError:
        print(
            f"callscope: not tracing this process: callscope is not installed for {sys.executable}",
            file=sys.stderr,
        )
        return
    try:
        from callscope._setup import flush_on_sigterm

        callscope.instrument()
        flush_on_sigterm()
    except Exception as err:  # never stop the program because tracing could not start
        print(f"callscope: not tracing this process: {err}", file=sys.stderr)


_chain_shadowed_sitecustomize()
_activate()
