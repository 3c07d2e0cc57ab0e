"""`baton demo db` and `make demo-sources` leave nothing running: the demo PostgreSQL stops and
its directory goes on SIGTERM, on an exception, and even when its owner is killed outright (the
postmaster's parent-death signal); `baton demo sources` (what `make demo-sources` runs) balances
every dataset and date and stops its API and database.

Each test points TMPDIR (where LocalPostgres makes its directory) at a fresh directory of its
own, made readable to the `postgres` user (pytest's tmp dirs are 0700 root), so it can see
exactly what a server left behind."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from baton_cli.commands.demo_db import LocalPostgres, postgres_bin

pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="no PostgreSQL server binaries")


@pytest.fixture
def server_tmp() -> Iterator[Path]:
    """A TMPDIR of this test's own the postgres user can enter (removed afterwards)."""
    path = Path(tempfile.mkdtemp(prefix="baton-test-pgtmp-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie awaiting its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _servers_under(root: Path) -> list[int]:
    """Processes whose command line names a path under `root` (a postgres -D <root>/...)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            named = str(root) in (proc / "cmdline").read_bytes().decode(errors="replace")
            if named and _alive(int(proc.name)):
                found.append(int(proc.name))
    return found


def _postmaster_pid(root: Path, timeout_s: float = 30.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for pidfile in root.glob("baton-pg-*/data/postmaster.pid"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                return int(pidfile.read_text().splitlines()[0])
        time.sleep(0.05)
    raise AssertionError(f"no postmaster.pid under {root}")


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _wait_gone(pid: int, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_an_exception_inside_the_server_s_block_stops_it_and_removes_its_directory(
    server_tmp, monkeypatch
):
    monkeypatch.setattr(tempfile, "tempdir", str(server_tmp))

    with pytest.raises(RuntimeError, match="boom"), LocalPostgres("pw-ex") as db:
        pid, root, port = db.server.pid, db.root, db.port
        raise RuntimeError("boom")

    assert not _alive(pid)
    assert not root.exists()
    assert _refused(port)


def test_baton_demo_db_stops_the_server_and_removes_its_directory_on_sigterm(server_tmp):
    env = {**os.environ, "TMPDIR": str(server_tmp), "BATON_DEMO_DB_PASSWORD": "pw-term"}
    argv = [sys.executable, "-m", "baton_cli", "demo", "db", "--port", "0"]
    argv += ["--start", "2013-01-02", "--end", "2013-01-02"]
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stderr.readline()  # printed once seeded
        assert re.match(r"943 flights in postgresql://baton:\*\*\*\*@127\.0\.0\.1:\d+/", ready)
        postmaster = _postmaster_pid(server_tmp)
        assert _alive(postmaster)

        proc.send_signal(signal.SIGTERM)

        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not _alive(postmaster)
    assert _servers_under(server_tmp) == []
    assert list(server_tmp.glob("baton-pg-*")) == []


def test_a_server_whose_owner_is_killed_outright_shuts_down_with_it(server_tmp):
    owner = (
        "import sys, time\n"
        "from baton_cli.commands.demo_db import LocalPostgres\n"
        "db = LocalPostgres('pw-kill').start()\n"
        "print(db.server.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    env = {**os.environ, "TMPDIR": str(server_tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", owner], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        postmaster = int(proc.stdout.readline())
        assert _alive(postmaster)

        proc.kill()  # SIGKILL: no handler, no finally
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert _wait_gone(postmaster)
    assert _servers_under(server_tmp) == []


def test_make_demo_sources_balances_every_dataset_and_date_and_stops_its_servers(
    server_tmp, tmp_path
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env |= {"TMPDIR": str(server_tmp), "BATON_HOME": str(tmp_path / "home")}
    argv = [sys.executable, "-m", "baton_cli", "demo", "sources"]  # the Makefile's command
    argv += ["--start", "2013-01-02", "--end", "2013-01-02"]

    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    rows = {(c[0], c[1]): c[2:] for c in lines if c and c[0] in ("flights_api", "flights_db")}
    assert set(rows) == {("flights_api", "2013-01-02"), ("flights_db", "2013-01-02")}
    for source, extracted, loaded, quarantined, balanced in rows.values():
        assert int(source) == int(extracted) == int(loaded) + int(quarantined) == 943
        assert balanced == "yes"
    where = re.search(
        r"demo API on http://127\.0\.0\.1:(\d+)\S*, PostgreSQL on \S+:(\d+)/", done.stderr
    )
    assert where, done.stderr
    assert _refused(int(where[1])) and _refused(int(where[2]))
    assert _servers_under(server_tmp) == []
    assert list(server_tmp.glob("baton-pg-*")) == []
