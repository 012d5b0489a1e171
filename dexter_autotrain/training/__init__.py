"""AutoTrain's side of a run: its own environment (the runner), the config rendered for
it, the base model it starts from, the files a model is made of, and its log."""
