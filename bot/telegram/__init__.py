"""The Telegram channel, one concern a module: `app` (where the bot starts), `handlers` (where an update is
routed), `delivery` (where a message is sent and retried) and `webhook` (the webhook server)."""
