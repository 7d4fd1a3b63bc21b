"""The dashboard's entry point, the file ``streamlit run`` executes (``callscope dashboard`` does that).

The dataset is ``$CALLSCOPE_DATA`` (default ``./callscope-data``); see :mod:`callscope.dashboard.shell`.
"""

from callscope.dashboard.shell import main

main()
