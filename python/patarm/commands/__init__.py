"""Subcommands of the ``patarm`` CLI, one module each (see ``patarm.cli``)."""
