"""The Telegram channel: a bot's private chats through the Bot API (docs/channels/telegram.md)."""
