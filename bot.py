"""Entry point: `python bot.py` runs the bot; `python bot.py --help` lists admin commands."""

import os
import sys

from bot.cli import main


def run() -> int:
    """main(), quiet when whoever reads its output stops early (`--help | head -1`)."""
    try:
        status = main()
        sys.stdout.flush()  # here, not at exit where a closed pipe would print a traceback
    except BrokenPipeError:
        # Nobody reads stdout any more: point it at /dev/null so that Python's own flush
        # at exit finds nothing to complain about (the recipe of the signal module's docs).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":
    raise SystemExit(run())
