"""One module per CLI subcommand, each exposing a ``click.Command`` named ``command``.

A command module parses arguments and prints; the work itself belongs to the
stage that owns it (``callscope.collector``, ``callscope.analytics``, ...).
"""
