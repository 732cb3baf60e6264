from resdyn.run.cli import main

main()
