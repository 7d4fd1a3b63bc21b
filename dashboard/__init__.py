"""Stage 4: the cost review dashboard, a Streamlit app over :mod:`callscope.analytics`.

Serve it with ``callscope dashboard [--data DIR] [--port 8501]``, or from code::

    from callscope.dashboard import start
    server = start("./callscope-data", port=8501)
    server.wait_ready()
    print(server.url)
    ...
    server.stop()

The app itself (``app.py`` and the pages under ``views/``) holds layout and widgets only:
every figure comes from a named query of the analytics stage. Importing this package does
not import Streamlit.
"""

from __future__ import annotations

from callscope.dashboard.errors import DashboardError, PortInUse
from callscope.dashboard.server import APP_PATH, DashboardServer, start

__all__ = ["APP_PATH", "DashboardError", "DashboardServer", "PortInUse", "start"]
