"""Custom actions for the forum assistant (run by the Rasa SDK action server)."""
