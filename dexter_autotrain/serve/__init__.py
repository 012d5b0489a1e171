"""`dexter-auto serve`: a local server that speaks what Hugging Face Inference Endpoints speak
(`POST /` and `/predict`, `GET /health` and `/info`), built on LitServe's workers and dynamic
batching, answering with the evaluation's own Predictor."""
