"""A real, throw-away Airflow deployment on this machine, and the emulator it talks to.

``Deployment`` starts PostgreSQL (Debian's package, a private cluster on a free port) or falls back to
SQLite, migrates the metadata DB, then the api-server, scheduler, dag-processor and triggerer; everything in a
temporary AIRFLOW_HOME, each process in its own process group with its log under ``<home>/logs``. ``stop()``
(or leaving the ``with`` block, also on an exception or Ctrl-C) ends exactly the process groups it started.
Reused by the multi-worker run (issue 11): pass ``executor``/``parallelism``/``extra_env``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

BIN = Path(sys.executable).parent
ADMIN = "admin"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def free_port() -> int:
    """A TCP port that was free on loopback a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    """Poll ``check`` until it is true; raise ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(interval)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")


def ensure_debian_packages(packages: Mapping[str, str]) -> list[str]:
    """Install the Debian packages whose command is missing (``{command: package}``); return what is missing.

    CI starts from a fresh machine; ``apt-get`` needs root, so without it the missing ones are only reported.
    """
    missing = [pkg for cmd, pkg in packages.items() if not (shutil.which(cmd) or Path(cmd).exists())]
    if missing and os.geteuid() == 0:
        print(f"installing Debian packages: {' '.join(missing)}", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", *missing], env=env, check=False, capture_output=True
        )
        missing = [pkg for cmd, pkg in packages.items() if not (shutil.which(cmd) or Path(cmd).exists())]
    return missing


@dataclass
class Process:
    """A started process group and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the whole group, SIGKILL it after ``grace`` seconds."""
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)
        # Children that outlived the group leader (task runners, gunicorn/uvicorn workers) go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def tail(self, chars: int = 3000) -> str:
        """The end of its log."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class ProcessGroup:
    """Processes started by this script, stopped in reverse order of start."""

    logs: Path
    started: list[Process] = field(default_factory=list)

    def start(self, name: str, cmd: list[str], env: Mapping[str, str], cwd: Path | None = None) -> Process:
        """Start ``cmd`` in a new session (so its children share one process group we can end)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                cmd, env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        proc = Process(name, popen, log)
        self.started.append(proc)
        return proc

    def check_alive(self) -> None:
        """Raise if a started process has exited (its log's end in the message)."""
        for proc in self.started:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")

    def stop(self) -> None:
        """Stop every started process, last started first."""
        while self.started:
            self.started.pop().stop()


def _postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def start_postgres(group: ProcessGroup, root: Path) -> str | None:
    """A private PostgreSQL cluster on a free port; its SQLAlchemy URL, or None when it cannot run here."""
    import importlib.util

    # Airflow 3.3 opens the metadata DB with both drivers (sync and async).
    if missing := [m for m in ("psycopg2", "asyncpg") if importlib.util.find_spec(m) is None]:
        print(f"no {' and '.join(missing)} (install the e2e extra): using SQLite", flush=True)
        return None
    if ensure_debian_packages({"/usr/lib/postgresql": "postgresql"}) or not (bindir := _postgres_bindir()):
        return None
    data, sockets = root / "pgdata", root / "pgsock"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the package's postgres user
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    init = subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8"],
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        print(f"initdb failed, using SQLite instead:\n{init.stderr[-2000:]}", flush=True)
        return None
    port = free_port()
    options = ["-p", str(port), "-k", str(sockets), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
    group.start("postgres", [*as_user, str(bindir / "postgres"), "-D", str(data), *options], os.environ)
    url = f"postgresql+psycopg2://airflow@127.0.0.1:{port}/postgres"

    def ready() -> bool:
        group.check_alive()
        import psycopg2

        psycopg2.connect(host="127.0.0.1", port=port, user="airflow", dbname="postgres").close()
        return True

    wait_until(ready, 60, "PostgreSQL")
    return url


class Deployment:
    """Airflow's api-server, scheduler, dag-processor and triggerer on a temporary AIRFLOW_HOME.

    :param dags_folder: the DAGs folder.
    :param connections: ``{conn_id: connection in Airflow's JSON form}``, given as ``AIRFLOW_CONN_*``.
    :param executor: the executor (``LocalExecutor``; the multi-worker run may pass another).
    :param parallelism: ``[core] parallelism``.
    :param database: ``auto`` (PostgreSQL if it can run here, else SQLite), ``postgres`` or ``sqlite``.
    :param extra_env: more ``AIRFLOW__*`` settings.
    :param extra_components: more long-running ``airflow`` commands by name, e.g.
        ``{"worker-1": ["celery", "worker", "--concurrency", "4"]}``, started after the four.
    :param pools: ``{name: slots}`` created (``airflow pools set``) before the components start: a task
        in a pool that does not exist is never scheduled.
    :param keep_home: keep AIRFLOW_HOME (database, logs) after ``stop()``.
    :param logs_to: copy AIRFLOW_HOME's ``logs`` (components and tasks) here on ``stop()``.
    """

    def __init__(
        self,
        dags_folder: Path,
        *,
        connections: Mapping[str, Mapping[str, Any]] | None = None,
        executor: str = "LocalExecutor",
        parallelism: int = 4,
        database: str = "auto",
        extra_env: Mapping[str, str] | None = None,
        extra_components: Mapping[str, list[str]] | None = None,
        pools: Mapping[str, int] | None = None,
        keep_home: bool = False,
        logs_to: Path | None = None,
    ) -> None:
        self.dags_folder = dags_folder
        self.connections = dict(connections or {})
        self.executor = executor
        self.parallelism = parallelism
        self.database = database
        self.extra_env = dict(extra_env or {})
        self.pools = dict(pools or {})
        self.keep_home = keep_home
        self.logs_to = logs_to
        self.home = Path(tempfile.mkdtemp(prefix="twads-e2e-airflow-"))
        self.group = ProcessGroup(self.home / "logs" / "components")
        self.port = free_port()
        self.components: dict[str, list[str]] = {c: [c] for c in COMPONENTS}
        self.components["api-server"] += ["--port", str(self.port), "--host", "127.0.0.1"]
        self.components.update(extra_components or {})
        self.password = secrets.token_urlsafe(12)
        self.db_kind = "sqlite"
        self.env: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        """The api-server's URL (REST API under ``/api/v2``, the UI at ``/``)."""
        return f"http://127.0.0.1:{self.port}"

    def _environment(self, db_url: str) -> dict[str, str]:
        from cryptography.fernet import Fernet

        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": self.executor,
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                # New DAG files are seen within seconds, not minutes.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                # The connection form's Test button (off by default since Airflow 2.7).
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            }
        )
        for conn_id, conn in self.connections.items():
            env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
        env.update(self.extra_env)
        return env

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run an ``airflow`` CLI command against this deployment."""
        return subprocess.run(
            [str(BIN / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self) -> Deployment:
        """Start the database and the four components; return once the api-server answers."""
        db_url = None
        if self.database in ("auto", "postgres"):
            db_url = start_postgres(self.group, self.home)
            if db_url is None and self.database == "postgres":
                raise RuntimeError("PostgreSQL was asked for and cannot be started here")
        self.db_kind = "postgres" if db_url else "sqlite"
        self.env = self._environment(db_url or f"sqlite:///{self.home / 'airflow.db'}")
        # A known admin password: the simple auth manager reads this file and adds only missing users.
        (self.home / "passwords.json").write_text(json.dumps({ADMIN: self.password}))
        migrate = self.airflow("db", "migrate", timeout=600)
        if migrate.returncode != 0:
            raise RuntimeError(
                f"airflow db migrate failed:\n{migrate.stdout[-2000:]}\n{migrate.stderr[-3000:]}"
            )
        for pool, slots in self.pools.items():
            self.set_pool(pool, slots)
        for name, args in self.components.items():
            self.group.start(name, [str(BIN / "airflow"), *args], self.env, cwd=self.home)

        def healthy() -> bool:
            self.group.check_alive()
            return requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).status_code == 200

        wait_until(healthy, 180, "Airflow api-server")
        return self

    def set_pool(self, name: str, slots: int) -> None:
        """Create or resize an Airflow pool (the CLI, as a user would)."""
        done = self.airflow("pools", "set", name, str(slots), f"e2e: {name}")
        if done.returncode != 0:
            raise RuntimeError(f"airflow pools set {name} {slots} failed:\n{done.stderr[-2000:]}")

    def log(self, component: str) -> str:
        """A component's log so far."""
        path = self.group.logs / f"{component}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop every process this deployment started, copy its logs, remove AIRFLOW_HOME (unless kept)."""
        self.group.stop()
        if self.logs_to is not None and (self.home / "logs").exists():
            shutil.copytree(self.home / "logs", self.logs_to, dirs_exist_ok=True)
        if not self.keep_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Deployment:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def emulator(group: ProcessGroup, approval: Mapping[str, Any] | None = None) -> Iterator[str]:
    """``twads-emulator`` on a free loopback port, as its own process; yields its base URL."""
    port = free_port()
    cmd = [str(BIN / "twads-emulator"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    if approval:
        cmd += ["--approval", json.dumps(dict(approval))]
    proc = group.start("emulator", cmd, os.environ)
    base_url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        group.check_alive()
        return requests.get(f"{base_url}/_emulator/health", timeout=2).ok

    try:
        wait_until(healthy, 30, "twads-emulator")
        yield base_url
    finally:
        proc.stop()
        with contextlib.suppress(ValueError):
            group.started.remove(proc)


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt, so that ``with`` blocks stop what they started (as on Ctrl-C)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
