"""The ways in: the Telegram gateway (bot.telegram) and the web widget (bot.widget)."""
