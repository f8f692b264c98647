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
        print(f'{prog}: error: {message(exc)}', file=sys.stderr)
        return 1
    return 0


# errors whose message says it all; others get their type in front
PLAIN = (ValueError, TypeError, KeyError, OSError, RuntimeError,
         FloatingPointError)


def message(exc: Exception) -> str:
    """The one line for ``exc``: a KeyError's message without the quotes
    ``str()`` adds; the type where the message is empty or the error is
    not one of :data:`PLAIN` (``AssertionError: ...``)."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args \
        else str(exc)
    if not text or not isinstance(exc, PLAIN):
        text = f'{type(exc).__name__}: {text}' if text else \
            type(exc).__name__
    return ' '.join(text.split()) if '\n' in text else text
