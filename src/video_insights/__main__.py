"""`python -m video_insights` is the `video-insights` command."""

from video_insights.cli.main import main

main()
