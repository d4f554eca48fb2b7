"""analysis: the instruments (dynamics, spectra, critical points, comparisons) and the CLI.

Instruments work on any :class:`landscapes.Energy`; theory curves come in as plain data or
callables, so a new model never needs a change here. Submodules are imported on demand.
"""
