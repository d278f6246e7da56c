/* Forum assistant widget: filled in by the widget work. */
