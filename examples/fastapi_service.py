"""A small Narrative Service, shaped like Dexter's: posts come in, and each goes back with its
narrative and the actors it names, from models behind `dexter-auto serve` or Inference
Endpoints, called with the async client.

Run it against two local servers:

    dexter-auto serve narrative      # prints http://127.0.0.1:PORT1
    dexter-auto serve actors         # prints http://127.0.0.1:PORT2
    DEXTER_NARRATIVES_URL=http://127.0.0.1:PORT1 DEXTER_ACTORS_URL=http://127.0.0.1:PORT2 \
        uvicorn examples.fastapi_service:app --port 8000
    curl -X POST localhost:8000/v1/posts/analyse -H 'content-type: application/json' \
        -d '{"posts": [{"id": "1", "text": "Tinubu visited Kano"}]}'

`DEXTER_SERVE_TOKEN` (or an HF token, for endpoints) is sent as the bearer token. A model
that is busy or waking up is retried by the client; if it stays busy the service answers 503
with Retry-After, and a post the model refuses is a 422.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from dexter_autotrain.client import (
    AsyncDexterClient,
    EndpointBusy,
    Endpoints,
    InferenceFailed,
    InvalidRequest,
)


class Post(BaseModel):
    id: str
    text: str = Field(min_length=1, max_length=5000)


class AnalyseRequest(BaseModel):
    posts: list[Post] = Field(min_length=1, max_length=500)


class ActorOut(BaseModel):
    text: str
    type: str
    start: int
    end: int
    score: float


class AnalysedPost(BaseModel):
    id: str
    narrative: str
    confidence: float
    actors: list[ActorOut]


class AnalyseResponse(BaseModel):
    posts: list[AnalysedPost]


def create_app(endpoints: Endpoints, token: str | None = None) -> FastAPI:
    """The service, calling the models at `endpoints` (actors are skipped without a URL)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncDexterClient(endpoints, token=token, timeout=20.0) as client:
            app.state.models = client
            yield

    app = FastAPI(title="Narrative Service (example)", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/posts/analyse")
    async def analyse(request: AnalyseRequest) -> AnalyseResponse:
        models: AsyncDexterClient = app.state.models
        texts = [post.text for post in request.posts]
        try:
            narratives = await models.classify_narratives(texts)
            actors = await models.extract_actors(texts) if endpoints.actors else [[] for _ in texts]
        except EndpointBusy as error:
            raise HTTPException(503, str(error), headers={"Retry-After": "30"}) from error
        except InvalidRequest as error:
            raise HTTPException(422, str(error)) from error
        except InferenceFailed as error:
            raise HTTPException(502, str(error)) from error
        return AnalyseResponse(
            posts=[
                AnalysedPost(
                    id=post.id,
                    narrative=found.label,
                    confidence=found.score,
                    actors=[ActorOut(**vars(actor)) for actor in named],
                )
                for post, found, named in zip(request.posts, narratives, actors, strict=True)
            ]
        )

    return app


app = create_app(
    Endpoints(
        narratives=os.environ.get("DEXTER_NARRATIVES_URL"),
        actors=os.environ.get("DEXTER_ACTORS_URL"),
    ),
    token=os.environ.get("DEXTER_SERVE_TOKEN"),
)
