"""`python -m app ...` is the `atlas` command."""

from .cli import main

main()
