"""Sub-commands of the ``landscapes`` CLI, one module each (discovered automatically)."""
