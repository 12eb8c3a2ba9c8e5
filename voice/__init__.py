"""Speech in (recognition) and speech out (synthesis)."""
