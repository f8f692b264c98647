"""What every command-line tool of mmconr does with an error."""
import sys
from typing import Callable


def run_cli(prog: str, run: Callable[[], None], debug: bool = False) -> int:
    """Call ``run()``; on an error print ``PROG: error: MESSAGE`` as one line
    on stderr and return 1 (``debug``: let the traceback through)."""
    try:
        run()
    except Exception as exc:  # a CLI prints the message, not a traceback
        if debug:
            raise
        print(f'{prog}: error: {exc}', file=sys.stderr)
        return 1
    return 0
