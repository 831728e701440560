"""``python -m freeway`` runs the CLI."""

from freeway.cli import main

main()
