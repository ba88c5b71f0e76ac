"""``python -m mlcanon``: the command line (also what ``torchrun -m mlcanon`` runs)."""

import sys

from mlcanon.cli import main

if __name__ == "__main__":
    sys.exit(main())
