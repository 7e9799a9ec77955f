from xhooks.cli.main import main

main()
