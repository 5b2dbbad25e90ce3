"""StoryBot's channels: the command line, the console and (later) Telegram, over one answering core."""
