from rtscope.cli import main

main()
