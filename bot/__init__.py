"""The forum assistant's own package: edge app, NLU components, content tools and CLI."""
