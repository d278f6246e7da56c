"""The edge web app: the only public process (widget, demo page, API, adviser inbox)."""
