import sys

from poselint.cli import main

sys.exit(main())
