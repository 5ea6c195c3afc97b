import sys

from appmanage.cli import main

sys.exit(main())
