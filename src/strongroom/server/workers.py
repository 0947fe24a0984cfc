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
import ipaddress
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

import uvicorn

from strongroom.server.children import (
    INDEXER_NAME,
    WORKER_NAME,
    WRITER_NAME,
    become,
    trail_indexer,
    trail_writer,
)
from strongroom.server.http import OneWriteHttpToolsProtocol
from strongroom.server.trail_writer import SOCKET_ENV

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


def _worker(options: ServeOptions, parent: int) -> None:
    become(WORKER_NAME, parent)
    sock = bind(options.host, options.port, reuse_port=True)
    uvicorn.Server(_config(options)).run(sockets=[sock])


def _spawn(target: Callable[..., None], args: tuple[object, ...], name: str) -> BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, name=name)
    process.start()
    return process


def _start(options: ServeOptions) -> BaseProcess:
    return _spawn(_worker, (options, os.getpid()), "strongroom-worker")


def _start_writer(path: Path) -> BaseProcess:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return _spawn(trail_writer, (str(path), os.getpid()), "strongroom-trail-writer")


def _wait_for_writer(process: BaseProcess, path: Path) -> None:
    """Until the writer listens on ``path`` (the workers start meanwhile, and each waits for it
    before it listens itself); a writer that cannot start stops the server, clearly."""
    deadline = time.monotonic() + _WRITER_START_S
    while not path.exists():
        if not process.is_alive():
            raise RuntimeError(f"the audit trail's writer exited with {process.exitcode}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the audit trail's writer did not start")
        time.sleep(0.02)


def _stop_all(processes: list[BaseProcess]) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=15)
        if process.is_alive():
            process.kill()


class _TrailHelpers:
    """The trail's writer and index processes, started again when they die."""

    def __init__(self) -> None:
        self._private = Path(tempfile.mkdtemp(prefix="strongroom-"))  # 0700: the socket's
        self.socket_path = self._private / "trail.sock"
        os.environ[SOCKET_ENV] = str(self.socket_path)  # the workers commit through it
        self._processes: dict[str, BaseProcess] = {
            "writer": _start_writer(self.socket_path),
            "indexer": self._start_indexer(),
        }

    @staticmethod
    def _start_indexer() -> BaseProcess:
        return _spawn(trail_indexer, (os.getpid(),), "strongroom-indexer")

    def wait_for_writer(self) -> None:
        _wait_for_writer(self._processes["writer"], self.socket_path)

    def check(self) -> None:
        for name, helper in self._processes.items():
            if not helper.is_alive():
                log.warning(
                    "the audit trail's %s %s exited with %s; starting another",
                    name,
                    helper.pid,
                    helper.exitcode,
                )
                self._processes[name] = (
                    _start_writer(self.socket_path) if name == "writer" else self._start_indexer()
                )

    def stop(self) -> None:
        """After the workers: the writer writes their last events and its closing digest."""
        _stop_all(list(self._processes.values()))
        shutil.rmtree(self._private, ignore_errors=True)


def _serve_in_process(options: ServeOptions) -> None:
    """One worker, this process, with the trail's processes beside it (watched by a thread);
    the writer listens before the worker does."""
    helpers = _TrailHelpers()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            helpers.check()

    watcher = threading.Thread(target=watch, name="strongroom-trail-watch", daemon=True)

    def stopped(signum: int, frame: FrameType | None) -> None:
        """uvicorn raises the signal that stopped it again once it has stopped: here that
        lets the trail's processes be stopped in order below, instead of ending this one."""

    signal.signal(signal.SIGINT, stopped)
    signal.signal(signal.SIGTERM, stopped)
    try:
        helpers.wait_for_writer()
        watcher.start()
        uvicorn.Server(_config(options)).run()
    finally:
        done.set()
        if watcher.is_alive():
            watcher.join()
        helpers.stop()


def serve(options: ServeOptions) -> None:
    """Run the server; blocks until SIGINT or SIGTERM."""
    if options.workers == 1:
        if options.audit:
            _serve_in_process(options)
        else:
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
    helpers: _TrailHelpers | None = None
    processes: list[BaseProcess] = []
    try:
        if options.audit:
            helpers = _TrailHelpers()
        processes = [_start(options) for _ in range(options.workers)]
        if helpers is not None:
            helpers.wait_for_writer()
        while not stopping:
            time.sleep(0.2)
            if helpers is not None and not stopping:
                helpers.check()
            for index, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    log.warning(
                        "worker %s exited with %s; starting another", process.pid, process.exitcode
                    )
                    processes[index] = _start(options)
    finally:
        _stop_all(processes)  # the workers first: their last events reach the writer
        if helpers is not None:
            helpers.stop()
