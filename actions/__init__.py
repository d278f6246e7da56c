"""Custom actions for the forum assistant (run by the Rasa SDK action server)."""

from bot import logging_policy

# The action server's logs pass through bot.redact too, like Rasa's and the edge's.
logging_policy.install()
