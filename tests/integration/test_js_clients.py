"""The JavaScript clients against a live production-mode Strongroom: the AWS SDK for JavaScript v3
(``@aws-sdk/client-kms``) and the AWS Encryption SDK for JavaScript (``@aws-crypto/client-node``),
pinned in tests/clients/js/package.json and installed by ``make js`` (``npm ci``).

Node's own test runner runs every ``tests/clients/js/test/*.test.js`` once, against this module's
server, with a TAP report; each JS test is then one pytest result here, failing with node's
report of it and node's whole output. The cross-language tests are here too: a message the
JavaScript Encryption SDK wrote (tests/clients/js/bin/esdk.js) is read by the Python one, and the
other way round. Without ``node`` on the PATH, or before ``make js``, all of it is skipped with
the reason."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_encryption_sdk
import pytest
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError

from tests.integration.server import Server, initialised_server
from tests.integration.test_encryption_sdk import kms_keyring

JS_DIR = Path(__file__).resolve().parents[1] / "clients" / "js"
JS_TESTS = sorted((JS_DIR / "test").glob("*.test.js"))
INSTALLED = JS_DIR / "node_modules" / ".installed"
NODE = shutil.which("node")
CONTEXT = {"purpose": "strongroom-cross-language", "tenant": "acme"}

# A JS test is a top-level ``test('name', ...)`` call; the names are unique across the files,
# because node's TAP report names tests but not their files.
DECLARED_TEST = re.compile(r"^test\((['\"])(?P<name>.+?)\1,", re.MULTILINE)
# A top-level TAP result line: ``ok 3 - name`` or ``not ok 3 - name # SKIP reason``.
TAP_RESULT = re.compile(r"^(?P<status>ok|not ok) \d+ - (?P<name>.*?)(?: # (?P<directive>.*))?$")


def declared_tests() -> list[tuple[str, str]]:
    """``(file, test name)`` of every JS test, read from the files themselves."""
    return [
        (path.name, match["name"])
        for path in JS_TESTS
        for match in DECLARED_TEST.finditer(path.read_text())
    ]


def not_runnable() -> str | None:
    """Why the JavaScript tests cannot run here, or None when they can."""
    if NODE is None:
        return (
            "node is not on the PATH: the JavaScript client tests need Node.js and npm "
            "(e.g. `apt-get install nodejs npm`), then `make js`"
        )
    if not INSTALLED.exists():
        return f"the JavaScript clients are not installed in {JS_DIR}: run `make js` (npm ci)"
    if INSTALLED.stat().st_mtime < (JS_DIR / "package-lock.json").stat().st_mtime:
        return f"{JS_DIR / 'package-lock.json'} changed since the last install: run `make js`"
    return None


DECLARED = declared_tests()
SKIP_REASON = not_runnable()
pytestmark = pytest.mark.skipif(SKIP_REASON is not None, reason=str(SKIP_REASON))


@dataclass(frozen=True)
class Result:
    """One top-level test in node's TAP report."""

    ok: bool
    directive: str | None  # ``SKIP ...`` or ``TODO ...``
    details: str  # the YAML block under the result line: duration, and the error when it failed


@dataclass(frozen=True)
class NodeRun:
    returncode: int
    output: str  # node's spec report and anything the tests wrote, stdout then stderr
    results: dict[str, Result]

    def __repr__(self) -> str:  # what pytest shows of the fixture beside a failure
        failed = sum(not result.ok for result in self.results.values())
        return f"NodeRun(returncode={self.returncode}, {len(self.results)} run, {failed} failed)"


def parse_tap(report: str) -> dict[str, Result]:
    """The top-level results of a TAP 13 report (subtests and comments passed over)."""
    results: dict[str, Result] = {}
    lines = report.splitlines()
    for index, line in enumerate(lines):
        match = TAP_RESULT.match(line)
        if match is None:
            continue
        details: list[str] = []
        if index + 1 < len(lines) and lines[index + 1] == "  ---":
            for block in lines[index + 2 :]:
                if block == "  ...":
                    break
                details.append(block)
        name = match["name"].replace("\\#", "#").replace("\\\\", "\\")
        results[name] = Result(match["status"] == "ok", match["directive"], "\n".join(details))
    return results


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A production-mode server of this module's own: every SigV4 signature the JavaScript SDK
    makes is verified, and listings see only what these tests made."""
    srv = initialised_server(tmp_path_factory.mktemp("js") / "data")
    yield srv
    srv.stop()


def node_env(server: Server) -> dict[str, str]:
    """The environment node runs in: the AWS CLI's (the server's credentials, no AWS profile or
    config file of the machine's) with the endpoint and region the JS tests read."""
    env = {k: v for k, v in server.cli_env().items() if not k.startswith("NODE_")}
    env.update(
        STRONGROOM_ENDPOINT=server.endpoint,
        AWS_REGION=env["AWS_DEFAULT_REGION"],
        # The pinned SDK runs on Node.js 18 and 20; its releases from 2027 on will not.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED="true",
        NO_COLOR="1",
    )
    return env


@pytest.fixture(scope="module")
def node_run(server: Server, tmp_path_factory: pytest.TempPathFactory) -> NodeRun:
    """Every JS test file, run once by ``node --test``: TAP to a file, the readable report to
    stdout."""
    assert NODE is not None
    report = tmp_path_factory.mktemp("node") / "report.tap"
    done = subprocess.run(
        [
            NODE, "--test",
            "--test-reporter=tap", f"--test-reporter-destination={report}",
            "--test-reporter=spec", "--test-reporter-destination=stdout",
            *(str(path.relative_to(JS_DIR)) for path in JS_TESTS),
        ],
        cwd=JS_DIR, env=node_env(server), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    text = report.read_text() if report.exists() else ""
    return NodeRun(done.returncode, output, parse_tap(text))


@pytest.mark.parametrize(("file", "name"), DECLARED, ids=[f"{f}::{n}" for f, n in DECLARED])
def test_js(node_run: NodeRun, file: str, name: str) -> None:
    result = node_run.results.get(name)
    if result is None:
        pytest.fail(f"node reported no result for {file}: {name!r}; its output:\n{node_run.output}")
    if result.directive is not None:
        pytest.skip(f"{file}: {result.directive}")
    if not result.ok:
        pytest.fail(f"{file}: {name}\n{result.details}\n\nnode's output:\n{node_run.output}")


def test_node_ran_exactly_the_declared_tests(node_run: NodeRun) -> None:
    """Every JS test has its pytest result above, and node passed as a whole (a file that
    failed to load, or a test declared in a way the pattern misses, fails here)."""
    names = [name for _, name in DECLARED]
    assert len(names) >= 20, names
    assert len(set(names)) == len(names), "two JS tests share a name"
    assert sorted(node_run.results) == sorted(names), node_run.output
    # Against this production-mode server nothing is skipped (only a dev server skips a test).
    assert [n for n, r in node_run.results.items() if r.directive] == [], node_run.output
    assert node_run.returncode == 0, node_run.output


# --- The cross-language Encryption SDK messages -------------------------------------------


@pytest.fixture(scope="module")
def kms(server: Server) -> Any:
    return server.client()


@pytest.fixture(scope="module")
def key_arn(kms: Any) -> str:
    return str(kms.create_key(Description="cross-language")["KeyMetadata"]["Arn"])


@pytest.fixture(scope="module")
def keyring(kms: Any, key_arn: str) -> Any:
    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    return kms_keyring(mpl, key_arn, kms)


@pytest.fixture(scope="module")
def esdk() -> Any:
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )


def javascript_esdk(server: Server, *args: str, check: bool = True) -> Any:
    """Run tests/clients/js/bin/esdk.js; the message header it prints, or the failed run."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, "bin/esdk.js", *args],
        check=False,
        cwd=JS_DIR,
        env=node_env(server),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if not check:
        return done
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_javascript_message_decrypts_in_python(
    server: Server, esdk: Any, keyring: Any, key_arn: str, tmp_path: Path
) -> None:
    plaintext = os.urandom(10_000)
    (tmp_path / "plaintext").write_bytes(plaintext)
    js_header = javascript_esdk(
        server, "encrypt", key_arn, json.dumps(CONTEXT), str(tmp_path / "plaintext"),
        str(tmp_path / "message"),
    )  # fmt: skip
    message = (tmp_path / "message").read_bytes()
    assert plaintext[:32] not in message

    decrypted, header = esdk.decrypt(source=message, keyring=keyring)
    assert decrypted == plaintext
    assert header.encryption_context == js_header["encryptionContext"]
    assert CONTEXT.items() <= header.encryption_context.items()
    assert header.algorithm.algorithm_id == js_header["suiteId"]
    (edk,) = header.encrypted_data_keys
    assert edk.key_provider.provider_id == "aws-kms"
    assert edk.key_provider.key_info == key_arn.encode()
    assert js_header["encryptedDataKeys"] == [{"providerId": "aws-kms", "providerInfo": key_arn}]

    # The Python SDK holds the message to its context: a changed value is refused.
    with pytest.raises(AWSEncryptionSDKClientError):
        esdk.decrypt(
            source=message, keyring=keyring, encryption_context={**CONTEXT, "tenant": "evil"}
        )


def test_python_message_decrypts_in_javascript(
    server: Server, esdk: Any, keyring: Any, key_arn: str, tmp_path: Path
) -> None:
    plaintext = os.urandom(10_000)
    message, header = esdk.encrypt(
        source=plaintext, keyring=keyring, encryption_context=CONTEXT, frame_length=1024
    )
    (tmp_path / "message").write_bytes(message)
    js_header = javascript_esdk(
        server, "decrypt", key_arn, str(tmp_path / "message"), str(tmp_path / "plaintext")
    )
    assert (tmp_path / "plaintext").read_bytes() == plaintext
    assert js_header["encryptionContext"] == header.encryption_context
    assert js_header["suiteId"] == header.algorithm.algorithm_id
    assert js_header["encryptedDataKeys"] == [{"providerId": "aws-kms", "providerInfo": key_arn}]

    # A flipped bit in the last frame: the JavaScript SDK refuses the message, writes nothing.
    tampered = bytearray(message)
    tampered[-200] ^= 0x01
    (tmp_path / "tampered").write_bytes(bytes(tampered))
    done = javascript_esdk(
        server, "decrypt", key_arn, str(tmp_path / "tampered"), str(tmp_path / "nothing"),
        check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert not (tmp_path / "nothing").exists()
