"""Content: the responses in domain.yml and their approval register."""
