"""StoryBot's channels: the command line, the console and Telegram, over one conversation core."""
