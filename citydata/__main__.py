from citydata.cli import main

main()
