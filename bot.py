"""Entry point: `python bot.py` runs the bot; `python bot.py --help` lists admin commands."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
