"""Model cards: Jinja templates rendered from the spec, data report and evaluation.

`tags` names the tag a run will be published under: known from the spec and the run alone,
so the card pins it before anything is published (and `hub.publish` creates it).
"""
