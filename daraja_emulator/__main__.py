import sys

from daraja_emulator.cli import main

sys.exit(main())
