"""Test doubles that speak real protocols: the Hub test server (see `hub_server`)."""

from .hub_auth import Accounts, TokenGrant
from .hub_client import client_env, patched_client
from .hub_context import HubConfig
from .hub_control import Fault
from .hub_server import HubServer, serving_client

__all__ = [
    "Accounts",
    "Fault",
    "HubConfig",
    "HubServer",
    "TokenGrant",
    "client_env",
    "patched_client",
    "serving_client",
]
