from massgen_core.cli.main import main

main()
