"""Put on the runner's PYTHONPATH for training: holds its `sitecustomize`."""
