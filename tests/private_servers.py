"""A Redis and a PostgreSQL cluster of a test's own, on free loopback ports, that the test can
stop and start again (outage tests). PostgreSQL refuses to run as root: as root (CI) its
commands run as the ``postgres`` user in a directory that user owns."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import redis as redis_lib


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(ready, what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


class PrivateRedis:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start (again): the data saved by ``stop(keep_data=True)`` is loaded back."""
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", self.directory],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(self._answers, "redis-server")

    def stop(self, *, keep_data: bool) -> None:
        """SHUTDOWN: with ``keep_data`` it saves first, as a Redis with persistence would."""
        with contextlib.suppress(redis_lib.ConnectionError):  # it hangs up as it exits
            redis_lib.Redis.from_url(self.url).shutdown(save=keep_data, nosave=not keep_data)
        self.process.wait(10)

    def _answers(self) -> bool:
        try:
            return bool(redis_lib.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis_lib.RedisError:
            return False


class PrivatePostgres:
    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise FileNotFoundError("no /usr/lib/postgresql/*/bin/initdb")
        self.bin = os.path.dirname(found[-1])
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.directory = tempfile.mkdtemp(prefix="pp-postgres-")
        self.data = os.path.join(self.directory, "data")
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c fsync=off"  # no crash of the machine here: only the server stops
        )
        log = os.path.join(self.directory, "log")
        self._run("pg_ctl", "-D", self.data, "-l", log, "-w", "-o", options, "start")

    def stop(self) -> None:
        """An immediate stop: what a crash or a failover looks like to the service."""
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            self._command("pg_ctl", "-D", self.data, "-m", "immediate", "stop"),
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)

    def _command(self, program: str, *args: str) -> list[str]:
        command = [os.path.join(self.bin, program), *args]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(self._command(program, *args), check=True, capture_output=True, cwd="/")
