"""The client Dexter's backend calls the models with, sync and async, over huggingface_hub's
`InferenceClient`: the same code against `dexter-auto serve` and an Inference Endpoint.

Example:
    ```python
    >>> from dexter_autotrain.client import DexterClient, Endpoints
    >>> client = DexterClient(Endpoints(narratives="http://127.0.0.1:8080"))
    >>> client.classify_narratives(["Fuel don cost again"])
    [NarrativePrediction(label='economy', score=0.91, scores={...})]
    ```
"""

from dexter_autotrain.client.aio import AsyncDexterClient
from dexter_autotrain.client.retry import RetryPolicy
from dexter_autotrain.client.sync import DexterClient
from dexter_autotrain.client.tasks import Endpoints
from dexter_autotrain.client.types import (
    Actor,
    EndpointBusy,
    EndpointTimeout,
    InferenceFailed,
    InvalidRequest,
    MemePrediction,
    NarrativePrediction,
    NotConfigured,
)

__all__ = [
    "Actor",
    "AsyncDexterClient",
    "DexterClient",
    "EndpointBusy",
    "EndpointTimeout",
    "Endpoints",
    "InferenceFailed",
    "InvalidRequest",
    "MemePrediction",
    "NarrativePrediction",
    "NotConfigured",
    "RetryPolicy",
]
