"""`python -m proplint`: the command line (`proplint.cli`)."""

from proplint.cli import main

main()
