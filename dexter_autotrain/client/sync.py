"""`DexterClient`: the models as typed functions, over `huggingface_hub.InferenceClient`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dexter_autotrain.client.retry import Attempts, failures
from dexter_autotrain.client.tasks import (
    ACTORS,
    MEMES,
    NARRATIVES,
    ImageInput,
    Settings,
    Task,
    TextInput,
    batches,
)
from dexter_autotrain.client.types import Actor, MemePrediction, NarrativePrediction


class DexterClient(Settings):
    """Calls Dexter's models, served by `dexter-auto serve` or an Inference Endpoint alike.

    Each input is one request, as Inference Endpoints take them; a list is sent in batches
    of `batch_size` requests in flight together. 503 and 429 are retried (see `RetryPolicy`).

    Args:
        endpoints: the URL of each model.
        token: the bearer token (`DEXTER_SERVE_TOKEN`, or an HF token for an endpoint).
        timeout: seconds to wait for one answer.
        batch_size: requests in flight together.
        retry: how long to retry 503 and 429.

    Example:
        ```python
        >>> client = DexterClient(Endpoints(narratives="http://127.0.0.1:8080"))
        >>> client.classify_narratives(["Fuel don cost again"])[0].label
        'economy'
        ```
    """

    def classify_narratives(self, texts: Sequence[TextInput]) -> list[NarrativePrediction]:
        """The narrative of each text.

        Args:
            texts: the texts, in any of the model's languages; for a model trained on
                several text columns, each the joined text or a mapping of the columns
                (`{"headline": ..., "text": ...}`), which the server joins.

        Returns:
            One prediction per text, in order.

        Raises:
            [`EndpointBusy`]: 503 or 429 past the retry budget.
            [`InvalidRequest`]: the endpoint refused an input (4xx).
            [`EndpointTimeout`] / [`InferenceFailed`]: no answer, or a server error.
            [`NotConfigured`]: no narratives URL.
        """
        return self._run(NARRATIVES, texts)

    def extract_actors(self, texts: Sequence[str]) -> list[list[Actor]]:
        """The actors (persons, organisations, locations) named in each text, with their
        character offsets in it. Raises as `classify_narratives`."""
        return self._run(ACTORS, texts)

    def classify_memes(self, images: Sequence[ImageInput]) -> list[MemePrediction]:
        """What each image is (meme, photo, screenshot): bytes, a file or a URL.
        Raises as `classify_narratives`."""
        return self._run(MEMES, images)

    def _run(self, task: Task, items: Sequence[Any]) -> list[Any]:
        from huggingface_hub import InferenceClient

        url = self.endpoints.url(task)
        client = InferenceClient(base_url=url, token=self.token, timeout=self.timeout)
        method = getattr(client, task.method)
        results: list[Any] = []
        with ThreadPoolExecutor(max_workers=self.batch_size) as pool:
            for chunk in batches(items, self.batch_size):
                outputs = pool.map(lambda item: self._call(url, method, item), chunk)
                results += [
                    task.convert(out, item) for out, item in zip(outputs, chunk, strict=True)
                ]
        return results

    def _call(self, url: str, method: Any, item: Any) -> Any:
        attempts, caught = Attempts(url, self.retry), failures()
        while True:
            try:
                return method(item)
            except caught as error:
                time.sleep(attempts.after(error))
