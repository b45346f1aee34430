"""``python -m metspine`` runs the command line."""

from metspine.cli import main

main()
