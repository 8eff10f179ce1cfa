from rnntui.cli import main

main()
