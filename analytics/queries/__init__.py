"""The named queries: one ``.sql`` file each, loaded by :mod:`callscope.analytics.catalog`.

``_macros.sql`` is not a query: it defines the macros every query (and user SQL) can use.
"""
