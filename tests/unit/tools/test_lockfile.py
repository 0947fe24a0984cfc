"""The lock holds: the exports are uv.lock's, uv.lock satisfies pyproject.toml, the environment the
suite runs in has exactly the locked versions, and botocore's models are the recorded ones."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from tools.lockfile import diff_models, diff_versions, model_record, pins, versions
from uv import find_uv_bin

ROOT = Path(__file__).resolve().parents[3]
REQUIREMENTS = ROOT / "requirements"
# Each export and the `uv export` arguments that make it (the Makefile's `exports` target).
EXPORTS = {
    "server.txt": ["--extra", "postgres", "--group", "build"],
    "dev.txt": ["--extra", "dev", "--extra", "postgres", "--group", "build"],
    "bench.txt": ["--extra", "dev", "--extra", "postgres", "--extra", "bench", "--group", "build"],
}
MODELS = ROOT / "tests" / "botocore-models.json"


def uv(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """The locked uv, offline, with an empty cache: nothing here may depend on the network."""
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_OFFLINE": "1", "UV_PYTHON": sys.executable}
    return subprocess.run(
        [find_uv_bin(), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def requirements(text: str) -> list[str]:
    """The lines of an export that say what is installed (its header names the output file)."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_the_lock_satisfies_pyproject(tmp_path: Path) -> None:
    done = uv("lock", "--check", cache=tmp_path)
    assert done.returncode == 0, f"uv.lock is out of date with pyproject.toml (make lock):\n{done}"


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_each_export_is_the_lock(name: str, tmp_path: Path) -> None:
    args = ["export", "--frozen", "--no-emit-project", "--format", "requirements-txt"]
    done = uv(*args, *EXPORTS[name], cache=tmp_path)
    assert done.returncode == 0, done.stderr
    committed = (REQUIREMENTS / name).read_text()
    assert requirements(done.stdout) == requirements(committed), f"run make exports ({name})"


def test_every_export_pins_with_hashes() -> None:
    for name in EXPORTS:
        text = (REQUIREMENTS / name).read_text()
        blocks = [b for b in re.split(r"\n(?=\S)", text) if not b.startswith("#")]
        assert len(blocks) == len(pins(text)) > 0, name
        assert all("\n    --hash=sha256:" in block for block in blocks), name


def test_the_exports_agree_on_every_version() -> None:
    """One lock, one version of each package, whichever export installs it."""
    server, dev, bench = (versions((REQUIREMENTS / n).read_text()) for n in EXPORTS)
    assert set(server) <= set(dev) <= set(bench)
    assert {n: dev[n] for n in server} == server
    assert {n: bench[n] for n in dev} == dev
    assert "botocore" in server
    assert {"uv", "pip", "setuptools"} <= set(server) | set(dev)


def test_the_suite_runs_on_the_locked_versions() -> None:
    """Every package the dev lock installs on this Python is installed, at the locked version."""
    wrong = []
    for name, version, marker in pins((REQUIREMENTS / "dev.txt").read_text()):
        if marker and not Marker(marker).evaluate():
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "(missing)"
        if installed != version:
            wrong.append(f"{name}: locked {version}, installed {installed}")
    assert not wrong, "the environment is not the lock's (make install): " + "; ".join(wrong)


def test_the_service_models_are_the_recorded_ones() -> None:
    """botocore's KMS, IAM and STS models are the schema the suite was run against; a botocore
    that brings other models is a reviewed change (make upgrade rewrites the record)."""
    recorded = json.loads(MODELS.read_text())
    changes = diff_models(recorded, model_record())
    assert not changes, "botocore's models differ from tests/botocore-models.json:\n" + "\n".join(
        changes
    )
    assert set(recorded["models"]) == {"kms", "iam", "sts"}
    assert recorded["models"]["kms"]["apiVersion"] == "2014-11-01"


def test_pins_read_names_extras_and_markers() -> None:
    text = (
        "# header\n"
        "Foo_Bar[x,y]==1.0 ; python_full_version < '3.12' \\\n"
        "    --hash=sha256:00\n"
        "baz==2.0.post1 \\\n"
        "    --hash=sha256:11\n"
        "    # via foo\n"
    )
    assert pins(text) == [
        ("foo-bar", "1.0", "python_full_version < '3.12'"),
        ("baz", "2.0.post1", None),
    ]


def test_a_version_diff_names_what_moved() -> None:
    before = {"a": "1", "b": "1", "c": "1"}
    after = {"b": "2", "c": "1", "d": "1"}
    assert diff_versions(before, after) == ["- a 1", "  b 1 -> 2", "+ d 1"]
    assert diff_versions(after, after) == []


def test_a_model_diff_names_the_operations() -> None:
    kms = {"apiVersion": "2014-11-01", "sha256": "x", "operations": ["Decrypt"], "shapes": 2}
    before = {"botocore": "1", "models": {"kms": kms}}
    after = {"botocore": "2", "models": {"kms": {**kms, "sha256": "y", "operations": ["Sign"]}}}
    assert diff_models(before, after) == [
        "botocore 1 -> 2",
        "kms: the model changed (2 -> 2 shapes)",
        "  + operation Sign",
        "  - operation Decrypt",
    ]
    assert diff_models(before, before) == []
