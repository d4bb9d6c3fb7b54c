from poselint.cli import entry

entry()
