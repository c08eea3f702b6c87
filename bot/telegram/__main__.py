"""`python -m bot.telegram`: the same as `dialoga telegram`."""
from bot.telegram.runner import main

main()  # configures logging itself, with secrets redacted
