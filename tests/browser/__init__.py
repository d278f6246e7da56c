"""Browser tests: the real widget in Debian's headless Chromium, against the real stack."""
