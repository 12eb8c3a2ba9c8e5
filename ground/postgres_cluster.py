"""A throw-away PostgreSQL cluster from Debian's `postgresql` package, for the several-hosts tests and
`make cluster-demo`: `initdb` into a temporary folder, `pg_ctl start` on a free port of 127.0.0.1, and
everything removed when the block ends.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster's folder is given to the
unprivileged `nobody` and the server runs as that user (`runuser`).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_UNPRIVILEGED = "nobody"


class PostgresNotInstalled(RuntimeError):
    """Debian's `postgresql` package (initdb, pg_ctl) is missing."""


def bin_dir() -> Path:
    """The folder of `initdb` and `pg_ctl`: Debian keeps them out of PATH, under /usr/lib/postgresql."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[4]))
    if not versions:
        raise PostgresNotInstalled("initdb not found: install Debian's postgresql package")
    return versions[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    folder: Path
    port: int
    user: str = "xiangyin"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "xiangyin") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            command = ("runuser", "-u", _UNPRIVILEGED, "--", *command)
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        # Room for the pools of many test databases and hosts (the default allows 100 connections).
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=400"
        )
        self._run(
            str(bin_dir() / "pg_ctl"),
            "start",
            "-w",
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate`: as if it crashed)."""
        self._run(str(bin_dir() / "pg_ctl"), "stop", "-w", "-D", str(self.data), "-m", mode, check=False)

    def create_database(self, name: str) -> str:
        self._run(str(bin_dir() / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return self.url(name)


@contextmanager
def postgres_cluster(port: int | None = None) -> Iterator[Cluster]:
    """A running cluster with one database, `xiangyin`, owned by the superuser `xiangyin` (trust
    authentication on 127.0.0.1 only); stopped and deleted at the end."""
    folder = Path(tempfile.mkdtemp(prefix="xiangyin-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, _UNPRIVILEGED)
    cluster = Cluster(folder, port or free_port())
    try:
        cluster._run(
            str(bin_dir() / "initdb"),
            "-D",
            str(cluster.data),
            "-U",
            cluster.user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        cluster.start()
        cluster.create_database("xiangyin")
        log.info("PostgreSQL on 127.0.0.1:%d over %s", cluster.port, folder)
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
