"""`AsyncDexterClient`: `DexterClient` for asyncio services (FastAPI), over
`huggingface_hub.AsyncInferenceClient`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
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


class AsyncDexterClient(Settings):
    """Calls Dexter's models without blocking the event loop; the same arguments, methods,
    batches, retries and errors as `DexterClient`. Close it (or use `async with`) to release
    its connections.

    Example:
        ```python
        >>> async with AsyncDexterClient(Endpoints(actors=url)) as client:
        ...     actors = await client.extract_actors(["Tinubu visited Kano"])
        >>> [(a.type, a.text) for a in actors[0]]
        [('PER', 'Tinubu'), ('LOC', 'Kano')]
        ```
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._clients: dict[str, Any] = {}

    async def __aenter__(self) -> AsyncDexterClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections of every endpoint used."""
        for client in self._clients.values():
            await client.close()
        self._clients.clear()

    async def classify_narratives(self, texts: Sequence[TextInput]) -> list[NarrativePrediction]:
        """The narrative of each text; see `DexterClient.classify_narratives`."""
        return await self._run(NARRATIVES, texts)

    async def extract_actors(self, texts: Sequence[str]) -> list[list[Actor]]:
        """The actors named in each text; see `DexterClient.extract_actors`."""
        return await self._run(ACTORS, texts)

    async def classify_memes(self, images: Sequence[ImageInput]) -> list[MemePrediction]:
        """What each image is; see `DexterClient.classify_memes`."""
        return await self._run(MEMES, images)

    async def _run(self, task: Task, items: Sequence[Any]) -> list[Any]:
        from huggingface_hub import AsyncInferenceClient

        url = self.endpoints.url(task)
        if url not in self._clients:
            self._clients[url] = AsyncInferenceClient(
                base_url=url, token=self.token, timeout=self.timeout
            )
        method = getattr(self._clients[url], task.method)
        results: list[Any] = []
        for chunk in batches(items, self.batch_size):
            outputs = await asyncio.gather(*(self._call(url, method, item) for item in chunk))
            results += [task.convert(out, item) for out, item in zip(outputs, chunk, strict=True)]
        return results

    async def _call(self, url: str, method: Any, item: Any) -> Any:
        attempts, caught = Attempts(url, self.retry), failures()
        while True:
            try:
                return await method(item)
            except caught as error:
                await asyncio.sleep(attempts.after(error))
