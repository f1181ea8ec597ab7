"""Local files, for every provider and the adapter: the OS calls under them
(:mod:`~xtstore.localfiles.oscalls`) and the one whole-or-nothing writer of a local file
(:mod:`~xtstore.localfiles.atomic`). Imports nothing from the rest of xtstore."""
