"""Model cards: Jinja templates rendered from the spec, data report and evaluation."""
