"""`python -m bot.telegram`: the same as `dialoga telegram`."""
import logging
import sys

from bot.telegram.runner import ConfigurationError, main

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
try:
    main()
except ConfigurationError as error:
    sys.exit(f"error: {error}")
