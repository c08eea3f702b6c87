"""The Telegram gateway: a thin python-telegram-bot Application between Telegram users
and the assistant's REST channel, and the delivery of operators' replies from the outbox.

- gateway.py: the handlers (commands, text, button presses, files) and the Application;
- rendering.py: the assistant's replies as Telegram messages (escaping, splitting, keyboards);
- delivery.py: the outbox to Telegram, with Telegram's flood control and retries;
- runner.py: the process (polling or webhook mode), `dialoga telegram`."""
