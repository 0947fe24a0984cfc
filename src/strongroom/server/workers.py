"""Serving with several worker processes, each on its own listening socket (SO_REUSEPORT).

uvicorn's own multi-worker mode shares one listening socket, and whichever worker wakes first
accepts: a burst of new connections can all land on one worker while the other idles. With a
socket per worker and SO_REUSEPORT, the kernel hands each new connection to a worker by a hash
of its addresses: a burst spreads, though not exactly evenly (32 connections over 2 workers
were seen split 13/19 as often as 16/16). A worker that dies is started again; SIGINT or SIGTERM
stops them all.
"""

from __future__ import annotations

import ipaddress
import logging
import multiprocessing
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

from strongroom.server.http import OneWriteHttpToolsProtocol

__all__ = ["ServeOptions", "bind", "serve"]

log = logging.getLogger("strongroom.server")

APP = "strongroom.server.app:create_app"


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    tls_cert: str | None = None
    tls_key: str | None = None


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


def _worker(options: ServeOptions) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    sock = bind(options.host, options.port, reuse_port=True)
    uvicorn.Server(_config(options)).run(sockets=[sock])


def _start(options: ServeOptions) -> BaseProcess:
    process = multiprocessing.get_context("spawn").Process(
        target=_worker, args=(options,), name="strongroom-worker"
    )
    process.start()
    return process


def serve(options: ServeOptions) -> None:
    """Run the server; blocks until SIGINT or SIGTERM."""
    if options.workers == 1:
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
    processes = [_start(options) for _ in range(options.workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for index, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    log.warning(
                        "worker %s exited with %s; starting another", process.pid, process.exitcode
                    )
                    processes[index] = _start(options)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
