"""What the assistant keeps, and for how long: questions left for an adviser (and crisis
counts), Rasa's stored conversations, the retention purge, and the optional webhook that
tells the charity's case system about a new question."""
