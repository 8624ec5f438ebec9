"""Print docs/cli.md, the command-line reference, from the click command objects.

    python scripts/gen_cli_docs.py > docs/cli.md      (or: make docs)

tests/cli/test_reference.py fails when docs/cli.md is not what this prints.
"""

from __future__ import annotations

import sys

from rtscope.cli.reference import markdown

if __name__ == "__main__":
    sys.stdout.write(markdown())
