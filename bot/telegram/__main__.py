"""`python -m bot.telegram`: the same as `dialoga telegram`."""
import sys

from bot.telegram.runner import ConfigurationError, main

try:
    main()  # configures logging itself, with secrets redacted
except ConfigurationError as error:
    sys.exit(f"error: {error}")
