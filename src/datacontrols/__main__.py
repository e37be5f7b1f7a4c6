"""`python -m datacontrols` is `reconcile`."""

from datacontrols.cli import main

main()
