"""`python -m bot.telegram`: the same as `dialoga telegram`."""
import logging

from bot.telegram.runner import main

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
main()
