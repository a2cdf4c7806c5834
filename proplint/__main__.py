from proplint.cli import main

main()
