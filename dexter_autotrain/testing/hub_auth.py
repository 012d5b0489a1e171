"""Who may call the Hub test server: tokens, their users and roles, org membership, whoami-v2."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from .hub_errors import HubError
from .hub_http import Reply, Request, Route, route

Role = Literal["read", "write"]
ROLES: tuple[Role, ...] = ("read", "write")
# The client tells a bad token from a missing repo by this exact message (utils/_http.py).
INVALID_TOKEN = "Invalid credentials in Authorization header"
TOKEN_CREATED = "2026-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class TokenGrant:
    user: str
    role: Role


@dataclass(frozen=True)
class Caller:
    """The identity of one request: a token's user, or anonymous (no token: public reads)."""

    user: str
    role: Role
    orgs: tuple[str, ...]

    @property
    def anonymous(self) -> bool:
        return not self.user

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (self.user, *self.orgs) if self.user else ()

    def require_token(self) -> None:
        if self.anonymous:
            raise HubError(401, "Authorization header is required")

    def require_write(self, namespace: str) -> None:
        self.require_token()
        if self.role != "write":
            raise HubError(
                403, "You have read access but not the required permissions for this operation."
            )
        if namespace not in self.namespaces:
            raise HubError(
                403, f'You don\'t have the rights to write under the namespace "{namespace}".'
            )


ANONYMOUS = Caller("", "read", ())


def object_id(name: str) -> str:
    """A stable 24-hex id like the Hub's, derived from a name."""
    return hashlib.sha1(name.encode()).hexdigest()[:24]


@dataclass
class Accounts:
    tokens: dict[str, TokenGrant]
    orgs: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def default(cls) -> Accounts:
        """`dexter-test` (member of `dexter-ng`) with `hf_test_write` and `hf_test_read`."""
        return cls(
            tokens={
                "hf_test_write": TokenGrant("dexter-test", "write"),
                "hf_test_read": TokenGrant("dexter-test", "read"),
            },
            orgs={"dexter-ng": frozenset({"dexter-test"})},
        )

    @classmethod
    def from_specs(cls, tokens: list[str], orgs: list[str]) -> Accounts:
        """Parse `TOKEN=USER:ROLE` and `ORG=USER[,USER...]` (the CLI's `--token` and `--org`)."""
        grants: dict[str, TokenGrant] = {}
        for spec in tokens:
            token, _, rest = spec.partition("=")
            user, _, role = rest.partition(":")
            if not (token and user and role in ROLES):
                raise ValueError(
                    f"--token wants TOKEN=USER:ROLE with ROLE read or write, got {spec!r}"
                )
            grants[token] = TokenGrant(user, cast(Role, role))
        members: dict[str, frozenset[str]] = {}
        for spec in orgs:
            org, _, users = spec.partition("=")
            if not (org and users):
                raise ValueError(f"--org wants ORG=USER[,USER...], got {spec!r}")
            members[org] = frozenset(u for u in users.split(",") if u)
        return cls(grants, members)

    def caller(self, request: Request, anonymous_ok: bool = False) -> Caller:
        """The token's identity; without a token, anonymous where `anonymous_ok` (the Hub's
        public reads), else 401."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not token or scheme.lower() != "bearer":
            if anonymous_ok:
                return ANONYMOUS
            raise HubError(401, "Authorization header is required")
        grant = self.tokens.get(token.strip())
        if grant is None:
            raise HubError(401, INVALID_TOKEN)
        orgs = tuple(sorted(org for org, users in self.orgs.items() if grant.user in users))
        return Caller(grant.user, grant.role, orgs)

    def whoami(self, caller: Caller) -> dict[str, Any]:
        return {
            "type": "user",
            "id": object_id(caller.user),
            "name": caller.user,
            "fullname": caller.user,
            "email": f"{caller.user}@example.invalid",
            "emailVerified": True,
            "canPay": False,
            "isPro": False,
            "periodEnd": None,
            "avatarUrl": "",
            "orgs": [
                {
                    "type": "org",
                    "id": object_id(org),
                    "name": org,
                    "fullname": org,
                    "roleInOrg": "write",
                    "canPay": False,
                    "isEnterprise": False,
                    "avatarUrl": "",
                }
                for org in caller.orgs
            ],
            "auth": {
                "type": "access_token",
                "accessToken": {
                    "displayName": "test",
                    "role": caller.role,
                    "createdAt": TOKEN_CREATED,
                },
            },
        }


def auth_routes(accounts: Accounts) -> list[Route]:
    def whoami(request: Request) -> Reply:
        request.caller.require_token()
        return Reply.json(accounts.whoami(request.caller))

    return [route("GET", "/api/whoami-v2", "whoami", whoami)]
