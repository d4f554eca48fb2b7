"""Studies: protocols that combine instruments, models and theory (which models, sizes, seeds,
what to measure). Their sweep task functions live beside them. Importing this package does
nothing: import the study module you need (``from analysis.studies import census``).
"""
