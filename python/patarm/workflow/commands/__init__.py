"""Subcommands of the ``patarm`` CLI, one module each (see ``patarm.workflow.cli``)."""
