"""LitServe's batched loop, gathering a batch with blocking waits instead of polling.

LitServe 0.2's batched loop asks its request queue (a multiprocessing manager's) for the
next request every millisecond, also when there is none: an idle server keeps the manager
and the worker busy (about a tenth of a core on a 2-core machine), which the API servers and
a busy neighbour then lack. This loop waits in the queue for a batch's first request, then
gathers more until the batch is full or `batch_timeout` has passed since that first one,
each wait a blocking one. Everything else (timeouts, responses, shutdown) is LitServe's.
"""

from __future__ import annotations

import time
from typing import Any

from litserve.loops.base import _SENTINEL_VALUE, _StopLoopError
from litserve.loops.simple_loops import BatchedLoop
from litserve.utils import LitAPIStatus, LoopResponseType

IDLE_WAIT = 1.0
"""Seconds one wait for a first request lasts (then the loop asks again)."""


class WaitingBatchedLoop(BatchedLoop):
    """`BatchedLoop` whose batches are gathered by blocking waits (see the module)."""

    def get_batch_requests(
        self, lit_api: Any, request_queue: Any, transport: Any
    ) -> tuple[list, list]:
        payloads: list = []
        timed_out: list = []
        deadline = None
        while len(payloads) + len(timed_out) < lit_api.max_batch_size:
            wait = IDLE_WAIT if deadline is None else deadline - time.monotonic()
            item = self.get_request(request_queue, timeout=wait) if wait > 0 else None
            if item is None:
                break
            if item == _SENTINEL_VALUE:
                raise _StopLoopError()
            queue_id, uid, timestamp, payload = item
            self.put_response(
                transport, queue_id, uid, (), LitAPIStatus.START, LoopResponseType.REGULAR
            )
            if lit_api.request_timeout not in (-1, False) and (
                time.monotonic() - timestamp > lit_api.request_timeout
            ):
                timed_out.append((queue_id, uid))
            else:
                payloads.append((queue_id, uid, payload))
            deadline = deadline or time.monotonic() + lit_api.batch_timeout
        return payloads, timed_out
