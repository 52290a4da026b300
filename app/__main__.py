"""`python -m app ...` is the `atlas` command."""

from app.cli import main

main()
