"""Operations: build the spaCy pipeline, train when the inputs changed, validate the data,
check the ports and start the servers. Called by `python -m bot ...` and the Makefile."""
