"""Serving with several worker processes, each on its own listening socket (SO_REUSEPORT).

uvicorn's own multi-worker mode shares one listening socket, and whichever worker wakes first
accepts: a burst of new connections can all land on one worker while the other idles. With a
socket per worker and SO_REUSEPORT, the kernel hands each new connection to a worker by a hash
of its addresses: a burst spreads, though not exactly evenly (32 connections over 2 workers
were seen split 13/19 as often as 16/16). A worker that dies is started again; SIGINT or SIGTERM
stops them all.

With the audit trail on, two more processes serve the workers (even one worker): the trail's
writer, which every worker commits its events through (``server/trail_writer.py``: one fsync for
every worker's batches), and the trail's indexer, at the lowest CPU priority
(``server/trail_index.py``). The writer starts first and stops last, after the workers, with
the closing digest; either is started again if it dies (meanwhile the workers refuse calls:
nothing is served unaudited). Each of them stops by itself if the supervisor is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

import uvicorn

from strongroom.server.http import OneWriteHttpToolsProtocol
from strongroom.server.runtime import archive_trail, open_keystore, open_trail, settings_from_env
from strongroom.server.trail_index import TrailIndexer, run_indexer
from strongroom.server.trail_writer import SOCKET_ENV, run_writer
from strongroom.storage import open_storage

__all__ = ["INDEXER_NAME", "WORKER_NAME", "WRITER_NAME", "ServeOptions", "bind", "serve"]

log = logging.getLogger("strongroom.server")

APP = "strongroom.server.app:create_app"


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    tls_cert: str | None = None
    tls_key: str | None = None
    audit: bool = False  # run the trail's writer and indexer processes


INDEX_EVERY_S = 5.0
# The processes' names (``ps -o comm``; Linux keeps 15 bytes).
WORKER_NAME = b"sr-worker"
WRITER_NAME = b"sr-trail-writer"
INDEXER_NAME = b"sr-trail-index"
_PR_SET_NAME = 15
_PR_SET_PDEATHSIG = 1
_WRITER_START_S = 60.0


def _config(options: ServeOptions) -> uvicorn.Config:
    return uvicorn.Config(
        APP,
        factory=True,
        host=options.host,
        port=options.port,
        ssl_certfile=options.tls_cert,
        ssl_keyfile=options.tls_key,
        loop="uvloop",
        http=OneWriteHttpToolsProtocol,
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
    )


def bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A bound (not yet listening) TCP socket for ``host:port``."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:  # a host name
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _become(name: bytes, parent: int) -> None:
    """A child of the supervisor ``parent``: named ``name`` for ``ps -o comm`` and ``top``
    (Linux keeps 15 bytes), and sent SIGTERM when the supervisor is gone (even by SIGKILL: a
    worker left behind would go on holding the port beside the next server's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name[:15]), 0, 0, 0)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # gone before the line above
        os.kill(os.getpid(), signal.SIGTERM)


def _worker(options: ServeOptions, parent: int) -> None:
    _become(WORKER_NAME, parent)
    sock = bind(options.host, options.port, reuse_port=True)
    uvicorn.Server(_config(options)).run(sockets=[sock])


def _helper_logging() -> None:
    """The writer's and the indexer's warnings on standard error, as the workers' are."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger("strongroom").addHandler(handler)
    logging.getLogger("strongroom").setLevel(logging.WARNING)


def _trail_writer(path: str, parent: int) -> None:
    _become(WRITER_NAME, parent)
    _helper_logging()
    settings = settings_from_env()
    trail, sink = open_trail(settings, open_keystore(settings))
    try:
        run_writer(trail, Path(path), parent)
    finally:
        if sink is not None:
            sink.close()  # after the trail's last events


def _trail_indexer(parent: int) -> None:
    _become(INDEXER_NAME, parent)
    _helper_logging()
    settings = settings_from_env()
    storage = open_storage(settings.database_url)
    try:
        run_indexer(
            TrailIndexer(settings.trail_dir, storage),
            INDEX_EVERY_S,
            parent,
            then=lambda: archive_trail(settings),  # retention, at the same low priority
        )
    finally:
        storage.close()


def _spawn(target: Callable[..., None], args: tuple[object, ...], name: str) -> BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, name=name)
    process.start()
    return process


def _start(options: ServeOptions) -> BaseProcess:
    return _spawn(_worker, (options, os.getpid()), "strongroom-worker")


def _start_writer(path: Path) -> BaseProcess:
    """The trail's writer, once it listens on ``path``."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    process = _spawn(_trail_writer, (str(path), os.getpid()), "strongroom-trail-writer")
    deadline = time.monotonic() + _WRITER_START_S
    while not path.exists():
        if not process.is_alive():
            raise RuntimeError(f"the audit trail's writer exited with {process.exitcode}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the audit trail's writer did not start")
        time.sleep(0.02)
    return process


def _stop_all(processes: list[BaseProcess]) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=15)
        if process.is_alive():
            process.kill()


def serve(options: ServeOptions) -> None:
    """Run the server; blocks until SIGINT or SIGTERM."""
    if options.workers == 1 and not options.audit:
        uvicorn.Server(_config(options)).run()
        return
    probe = bind(options.host, options.port, reuse_port=True)  # fail early, clearly, if taken
    probe.close()
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    private = Path(tempfile.mkdtemp(prefix="strongroom-"))  # mode 0700: the writer's socket
    socket_path = private / "trail.sock"
    helpers: dict[str, BaseProcess] = {}
    processes: list[BaseProcess] = []
    try:
        if options.audit:
            os.environ[SOCKET_ENV] = str(socket_path)  # the workers commit through it
            helpers["writer"] = _start_writer(socket_path)
            helpers["indexer"] = _spawn(_trail_indexer, (os.getpid(),), "strongroom-indexer")
        processes = [_start(options) for _ in range(options.workers)]
        while not stopping:
            time.sleep(0.2)
            for name, helper in helpers.items():
                if not helper.is_alive() and not stopping:
                    log.warning(
                        "the audit trail's %s %s exited with %s; starting another",
                        name,
                        helper.pid,
                        helper.exitcode,
                    )
                    helpers[name] = (
                        _start_writer(socket_path)
                        if name == "writer"
                        else _spawn(_trail_indexer, (os.getpid(),), "strongroom-indexer")
                    )
            for index, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    log.warning(
                        "worker %s exited with %s; starting another", process.pid, process.exitcode
                    )
                    processes[index] = _start(options)
    finally:
        _stop_all(processes)  # the workers first: their last events reach the writer
        _stop_all(list(helpers.values()))  # then the writer's closing digest
        shutil.rmtree(private, ignore_errors=True)
