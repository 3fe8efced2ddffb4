"""Shared pieces of the benchmarks: the machine, a production server, a keep-alive client, tables.

Not a benchmark itself. The server is always ``python -m kb serve --prod`` on 127.0.0.1,
started with KB_CASES / KB_DATA pointing at the benchmark's own folders, and always stopped.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
#: Realistic seller queries (the starter set's judged queries) used by the latency and load tests.
QUERIES_FILE = REPO / "eval" / "starter_queries.jsonl"


def machine() -> str:
    """CPU count and model, RAM, OS, and the Python, torch and faiss versions."""
    cpus = os.cpu_count()
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    versions = []
    for name in ("torch", "faiss"):
        try:
            module = __import__(name)
            versions.append(f"{name} {module.__version__}")
        except ImportError:
            versions.append(f"{name} absent")
    return (f"{cpus} CPUs, {model}, {ram}; {platform.platform()}; Python {platform.python_version()}; "
            + "; ".join(versions))


def load_average() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def queries(limit: int | None = None) -> list[str]:
    """The seller queries of eval/starter_queries.jsonl (texts only), in file order."""
    texts = [json.loads(line)["text"] for line in QUERIES_FILE.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    return texts[:limit] if limit else texts


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..100) of values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 100))))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 and p99 of durations, in milliseconds."""
    return {f"p{p}": percentile(seconds, p) * 1000 for p in (50, 95, 99)}


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a plain left-aligned table."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def server_env(cases: Path, data: Path) -> dict[str, str]:
    return {**os.environ, "KB_CASES": str(cases), "KB_DATA": str(data), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "KB_SECRET_KEY": "benchmark-only-secret"}


def kb_index(cases: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run ``python -m kb index -q`` on a folder, as an operator would."""
    return subprocess.run([sys.executable, "-m", "kb", "index", "-q", *extra], cwd=REPO,
                          env=server_env(cases, data), capture_output=True, text=True, check=False)


#: The user the benchmarks sign in as (a seller: what a person on a sales call is).
BENCH_USER = ("bench-seller", "seller", "benchmark-password-not-secret")
#: The admin that polls /healthz for the index version (its details are for admins only).
BENCH_ADMIN = ("bench-admin", "admin", "benchmark-admin-password-not-secret")


def add_user(cases: Path, data: Path, user: tuple[str, str, str] = BENCH_USER) -> None:
    """Add a user to DATA's database with ``kb users add`` (nothing if it exists already)."""
    name, role, password = user
    done = subprocess.run([sys.executable, "-m", "kb", "users", "add", name, "--role", role, "--password-stdin"],
                          cwd=REPO, env=server_env(cases, data), input=password + "\n", capture_output=True,
                          text=True, check=False)
    if done.returncode != 0 and "exists" not in done.stderr + done.stdout:
        raise RuntimeError(f"kb users add failed: {done.stderr.strip()}")


class Server:
    """``python -m kb serve --prod`` on 127.0.0.1:port, in its own process group."""

    def __init__(self, cases: Path, data: Path, port: int, workers: int, log: Path):
        self.cases, self.data, self.port, self.workers, self.log = cases, data, port, workers, log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180.0) -> None:
        """Start the server and wait until every worker answers /healthz."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.log, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kb", "serve", "--prod", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers)],
            cwd=REPO, env=server_env(self.cases, self.data), stdout=handle, stderr=subprocess.STDOUT,
            # Its own process group (to stop it whole) but this session: with Linux's autogroup
            # scheduling a new session would get its own CPU share, and the server would be
            # measured with more CPU than the in-process baseline.
            process_group=0)
        handle.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode}:\n{self.log_tail()}")
            if self._healthy():
                # Each worker loads the model and index before accepting: wait for all of them.
                if self._workers_ready():
                    return
            time.sleep(0.5)
        raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def _workers_ready(self) -> bool:
        """True when every gunicorn worker has loaded (each holds the model: a large RSS)."""
        workers = self.worker_pids()
        return len(workers) >= self.workers and all(rss_bytes(pid) > 200 * 2**20 for pid in workers)

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        return children(self.process.pid)

    def memory(self) -> dict[str, int]:
        """Resident memory in bytes: the master, each worker and the total."""
        pids = [self.process.pid, *self.worker_pids()] if self.process else []
        out = {f"pid {pid}": rss_bytes(pid) for pid in pids}
        out["total"] = sum(out.values())
        return out

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time (user + system) used so far by the master and each worker, by pid."""
        pids = [self.process.pid, *self.worker_pids()] if self.process else []
        return {pid: cpu_seconds(pid) for pid in pids}

    def stop(self) -> None:
        """Stop gunicorn (SIGTERM to its process group, SIGKILL after 15 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="utf-8")
    except OSError:
        return []
    return [int(part) for part in text.split()]


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0.0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime field 14 and stime field 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 (reconnects if the server closes it)."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None
        #: Requests retried on a new connection because the server had closed an idle one.
        self.reconnects = 0
        self.cookies: dict[str, str] = {}

    def login(self, user: tuple[str, str, str] = BENCH_USER) -> None:
        """Sign in through the login form (CSRF token and all), keeping the session cookie."""
        name, _, password = user
        status, body = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token" value="([^"]+)"', body)
        if status != 200 or not match:
            raise RuntimeError(f"GET /login answered {status} without a CSRF token")
        form = urllib.parse.urlencode({"csrf_token": match.group(1).decode(), "name": name, "password": password})
        status, body = self.request("POST", "/login", form.encode(),
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        if status not in (302, 303):
            raise RuntimeError(f"signing in as {name} failed: {status} {body[:200]!r}")

    def get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, bytes]:
        """GET path; return (status, body). Raises OSError / http.client errors on failure."""
        return self.request("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""))

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """One request on the kept-alive connection, with the cookies the server set."""
        headers = {"Accept": "application/json", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, url, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                for header in response.headers.get_all("Set-Cookie") or []:
                    name, _, rest = header.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
                return response.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle: retry once on a new one.
                self.close()
                if attempt == 2:
                    raise
                self.reconnects += 1
        raise AssertionError("unreachable")

    def search(self, text: str, k: int = 10) -> tuple[int, bytes]:
        return self.get("/api/search", {"q": text, "k": str(k)})

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so `finally` blocks stop the server."""
    def raise_interrupt(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def index_in_subprocess(cases: Path, data: Path) -> str:
    """Build the index with ``kb index`` in its own process; return its summary line.

    Not in this process: after embedding a corpus in batches, a process encodes single
    queries about twice as slowly, which would flatter the end-to-end / bare ratio.
    """
    done = kb_index(cases, data)
    if done.returncode not in (0, 2):
        raise SystemExit(f"error: kb index failed: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def indexed_corpus(cases: Path, data: Path | None, prefix: str) -> Iterator[tuple[Path, Path, Path]]:
    """Print the machine, then give (cases, data, scratch folder) for a server benchmark.

    Without ``data``, the cases are copied into the scratch folder and indexed there in a
    subprocess; with it, the given index is used as it is. Stops cleanly on SIGINT/SIGTERM;
    the scratch folder is removed at the end.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    print(f"machine: {machine()}")
    print(load_average())
    with stopping_on_signals(), tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        scratch = Path(scratch)
        if data is None:
            copy, data = scratch / "cases", scratch / "data"
            shutil.copytree(cases, copy)
            cases = copy
            print(index_in_subprocess(cases, data))
        yield cases, data, scratch


def add_server_arguments(parser, port: int) -> None:
    """Add the options every server benchmark takes: --cases, --data, --port, --workers."""
    parser.add_argument("--cases", type=Path, default=REPO / "cases",
                        help="folder of case files (default: the starter corpus)")
    parser.add_argument("--data", type=Path, default=None,
                        help="KB_DATA folder already holding an index of --cases (default: copy and index)")
    parser.add_argument("--port", type=int, default=port, help=f"server port on 127.0.0.1 (default: {port})")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default: 2)")
