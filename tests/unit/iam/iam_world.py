"""Shared by the authentication and STS tests: real identity storage (SQLite in tmp_path), a real
key store and clock, and requests signed by botocore itself. Fixtures are in ``conftest.py``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strongroom.clock import Clock
from strongroom.domain.caller import Caller
from strongroom.domain.identity import RoleRecord, UserRecord
from strongroom.iam.auth import Authenticator
from strongroom.iam.credentials import NewAccessKey, create_access_key, create_account
from strongroom.iam.service import IamService
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.storage import SqlStorage, migrate, open_storage

ACCOUNT = "111122223333"
OTHER = "444455556666"
TRUST_USER = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
    '"Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"}}]}'
)


@dataclass(frozen=True)
class Request:
    """A request as the server sees it: lower-case header names, raw path and query."""

    headers: dict[str, str]
    body: bytes = b"{}"


def sign(
    key_id: str,
    secret: str,
    *,
    token: str | None = None,
    service: str = "kms",
    sign_token: bool = True,
    body: bytes = b"{}",
) -> Request:
    """A POST / signed by botocore; with ``sign_token=False`` the token is added after signing."""
    request = AWSRequest(method="POST", url="http://localhost/", data=body, headers={})
    SigV4Auth(
        Credentials(key_id, secret, token if sign_token else None), service, "us-east-1"
    ).add_auth(request)
    headers = {"host": "localhost"}
    for name, value in request.headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        headers[name.lower()] = text
    if token is not None and not sign_token:
        headers["x-amz-security-token"] = token
    return Request(headers, body)


@dataclass
class World:
    storage: SqlStorage
    keystore: SoftwareKeyStore
    clock: Clock
    iam: IamService
    auth: Authenticator
    root_key: NewAccessKey
    alice: UserRecord
    alice_key: NewAccessKey

    def authenticate(self, request: Request, service: str = "kms") -> Caller:
        return self.auth.authenticate(
            "POST", "/", "", request.headers, request.body, service=service
        )

    def role(
        self, name: str, trust: str, account: str = ACCOUNT, max_session: int = 3600
    ) -> RoleRecord:
        role = RoleRecord(
            account=account,
            name=name,
            path="/",
            role_id="AROA" + name.upper().ljust(17, "X")[:17],
            arn=f"arn:aws:iam::{account}:role/{name}",
            trust_policy=trust,
            max_session_duration=max_session,
            description="",
            created_at=0.0,
        )
        self.storage.insert_role(role)
        self.changed()
        return role

    def user(self, name: str, account: str = ACCOUNT) -> tuple[UserRecord, NewAccessKey]:
        found = _user(self.storage, self.keystore, name, account)
        self.changed()
        return found

    def changed(self) -> None:
        """What the server does when storage's change counter moves."""
        self.auth.clear()
        self.iam.clear_caches()


def _user(
    storage: SqlStorage, keystore: SoftwareKeyStore, name: str, account: str
) -> tuple[UserRecord, NewAccessKey]:
    user = UserRecord(
        account=account,
        name=name,
        path="/",
        user_id="AIDA" + name.upper().ljust(17, "X")[:17],
        arn=f"arn:aws:iam::{account}:user/{name}",
        created_at=0.0,
    )
    storage.insert_user(user)
    return user, create_access_key(storage, keystore, account, 0.0, principal_arn=user.arn)


def _world(tmp_path: Path, dev_account: str | None) -> World:
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path / 'iam.db'}"
    migrate(url)
    storage = open_storage(url)
    keystore = SoftwareKeyStore(RootKey.generate(tmp_path / "root.key"))
    clock = Clock()
    root_key = create_account(storage, keystore, ACCOUNT, 0.0)
    create_account(storage, keystore, OTHER, 0.0)
    alice, alice_key = _user(storage, keystore, "alice", ACCOUNT)
    return World(
        storage,
        keystore,
        clock,
        IamService(storage, keystore, clock),
        Authenticator(storage, keystore, dev_account=dev_account, clock=clock),
        root_key,
        alice,
        alice_key,
    )


def make_world(tmp_path: Path, dev_account: str | None) -> World:
    return _world(tmp_path, dev_account)
