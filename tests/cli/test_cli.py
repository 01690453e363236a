"""The `video-insights` command as a user runs it: the installed script, in a subprocess, on a DuckDB file.

Exit status 0 on success, 2 on bad usage, 1 on failure, with a one-line reason on stderr. The last
part starts a server on a store the CLI filled and checks who can read what (tenancy).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import httpx
import jwt
import pytest

from support import callback_room, free_port, serving, twilio_sign, wait_until_up
from video_insights import accounts
from video_insights.app import create_app
from video_insights.cli.main import main as cli_group
from video_insights.ingest import twilio_callbacks
from video_insights.ingest.auth import TWILIO_CTY, verify_token
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore

DATA = Path(__file__).parent.parent / "data"
CHROMIUM = DATA / "webrtc-internals" / "chromium156"
DUMPS = sorted(CHROMIUM.glob("*.json.gz")) + sorted(CHROMIUM.glob("*.rtcstats-dump.gz")) + \
    sorted((DATA / "rtcstats" / "jitsi").glob("*.jsonl"))
EXE = shutil.which("video-insights") or str(Path(sys.executable).parent / "video-insights")
HEX32 = "0123456789abcdef" * 2


# -- running the command -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    status: int
    words: tuple[str, ...] = ()
    shared: bool = False  # needs this test's store (its accounts), not a scratch one


def _one_line_failure(r: subprocess.CompletedProcess[str], status: int, words: tuple[str, ...]) -> str:
    assert r.returncode == status, f"exit {r.returncode} (wanted {status}): {r.stdout} {r.stderr}"
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), f"stderr is not one line: {r.stderr!r}"
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    return lines[0]


class Cli:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"duckdb:///{path}"  # an absolute path: duckdb:////tmp/…
        assert self.url.startswith("duckdb:////")

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_INSIGHTS_")}
        environ.update({"VIDEO_INSIGHTS_STORE": self.url, "PYTHONWARNINGS": "ignore", **(env or {})})
        return subprocess.run([EXE, *args], capture_output=True, text=True, env=environ, timeout=120, check=False)

    def ok(self, *args: str) -> Any:
        r = self.run(*args)
        assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
        return json.loads(r.stdout)

    def fails(self, status: int, *args: str, words: tuple[str, ...] = ()) -> str:
        """The command exits with `status` and says why in exactly one line on stderr."""
        return _one_line_failure(self.run(*args), status, words)

    def all_fail(self, cases: list[Case], scratch: Path) -> None:
        """Run failing commands at once (each on a scratch store of its own, so no DuckDB lock is shared;
        `{store}` cases need the accounts of this store and run one after the other)."""
        local = [c for c in cases if c.shared]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(
                lambda ic: self.run(*ic[1].args, env={"VIDEO_INSIGHTS_STORE": f"duckdb:///{scratch}/s{ic[0]}.duckdb"}),
                enumerate([c for c in cases if not c.shared])))
        results += [self.run(*c.args) for c in local]
        for case, r in zip([c for c in cases if not c.shared] + local, results, strict=True):
            try:
                _one_line_failure(r, case.status, case.words)
            except AssertionError as e:
                raise AssertionError(f"video-insights {' '.join(case.args)}: {e}") from None

    @contextmanager
    def store(self) -> Iterator[DuckDBStore]:
        """The same file, opened here once the command has exited (DuckDB: one process at a time)."""
        s = DuckDBStore(self.path)
        try:
            yield s
        finally:
            s.close()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "store" / "vi.duckdb")


@pytest.fixture
def account(cli: Cli) -> dict[str, Any]:
    """An account in the test's store, made in-process (the CLI's own `accounts create` has its tests)."""
    with cli.store() as s:
        s.migrate()
        a = accounts.create_account(s, friendly_name="cli test")
    return {"account_sid": a.sid, "auth_token": a.auth_token, "parent_account_sid": None}


def _is_sid(value: Any, prefix: str) -> bool:
    return isinstance(value, str) and len(value) == 34 and value.startswith(prefix) and \
        all(c in "0123456789abcdef" for c in value[2:])


def _room_sids(store: DuckDBStore, account_sid: str) -> set[str]:
    _, rows = store.fetch(f"SELECT room_sid FROM rooms WHERE account_sid = '{account_sid}'")
    return {r[0] for r in rows}


# -- migrate, accounts, keys ------------------------------------------------------------------------

def test_migrate_creates_then_has_nothing_to_do(cli: Cli) -> None:
    first = cli.ok("migrate")
    assert first["store"] == cli.url
    assert first["applied"]
    assert cli.ok("migrate")["applied"] == []
    assert cli.path.exists()


def test_store_flag_overrides_the_environment(cli: Cli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.duckdb"
    made = cli.ok("accounts", "create", "--store", f"duckdb:///{elsewhere}")
    with Cli(elsewhere).store() as s:
        assert accounts.find_account(s, made["account_sid"]) is not None
    assert not cli.path.exists()


def test_accounts_create_and_subaccount(cli: Cli) -> None:
    account = cli.ok("accounts", "create", "--friendly-name", "cli test")
    assert set(account) == {"account_sid", "auth_token", "parent_account_sid"}
    assert _is_sid(account["account_sid"], "AC")
    assert isinstance(account["auth_token"], str) and len(account["auth_token"]) >= 16
    assert account["parent_account_sid"] is None
    sub = cli.ok("accounts", "create", "--parent", account["account_sid"])
    assert sub["parent_account_sid"] == account["account_sid"]
    assert sub["account_sid"] != account["account_sid"]
    with cli.store() as s:
        assert accounts.authenticate(s, account["account_sid"], account["auth_token"]).reachable == \
            {account["account_sid"], sub["account_sid"]}
        assert accounts.authenticate(s, sub["account_sid"], sub["auth_token"]).reachable == {sub["account_sid"]}


def test_accounts_create_registers_an_existing_pair(cli: Cli) -> None:
    sid, token = "AC" + HEX32, "f" * 32
    made = cli.ok("accounts", "create", "--sid", sid, "--auth-token", token)
    assert made == {"account_sid": sid, "auth_token": token, "parent_account_sid": None}
    params = {"AccountSid": sid, "RoomSid": "RM" + HEX32}
    url = "https://example.com/webhooks/twilio"
    with cli.store() as s:
        account = accounts.find_account(s, sid)
    assert account is not None
    assert twilio_sign(account.auth_token, url, params) == twilio_sign(token, url, params)
    cli.fails(2, "accounts", "create", "--sid", sid, "--auth-token", token, words=("already exists",))


def test_accounts_create_failures(cli: Cli, tmp_path: Path) -> None:
    cli.all_fail([
        Case(("accounts", "create", "--sid", "ACnot-hex", "--auth-token", "t" * 32), 2, ("--sid", "ACnot-hex")),
        Case(("accounts", "create", "--sid", "SK" + HEX32, "--auth-token", "t" * 32), 2, ("--sid",)),
        Case(("accounts", "create", "--sid", "AC" + HEX32), 2, ("--auth-token",)),
        Case(("accounts", "create", "--auth-token", "t" * 32), 2, ("--sid",)),
        Case(("accounts", "create", "--sid", "AC" + HEX32, "--auth-token", "short"), 2, ("--auth-token",)),
        Case(("accounts", "create", "--parent", "ACnope"), 2, ("--parent", "ACnope")),
        Case(("accounts", "create", "--bogus"), 2, ("--bogus",)),
        Case(("accounts", "create", "--parent", "AC" + HEX32), 1, ("AC" + HEX32, "not found")),
    ], tmp_path)


def test_keys_create(cli: Cli, account: dict[str, Any]) -> None:
    key = cli.ok("keys", "create", "--account", account["account_sid"])
    assert set(key) == {"sid", "secret"}
    assert _is_sid(key["sid"], "SK") and len(key["secret"]) >= 16
    given = cli.ok("keys", "create", "--account", account["account_sid"], "--sid", "SK" + HEX32,
                   "--secret", "twilio-api-key-secret")
    assert given == {"sid": "SK" + HEX32, "secret": "twilio-api-key-secret"}
    livekit = cli.ok("keys", "create", "--account", account["account_sid"], "--livekit-key", "APIxyz",
                     "--livekit-secret", "livekit-secret-value")
    assert _is_sid(livekit["sid"], "SK") and livekit["secret"] == "livekit-secret-value"
    with cli.store() as s:
        assert accounts.authenticate(s, key["sid"], key["secret"]).account_sid == account["account_sid"]
        found = accounts.find_key_by_livekit(s, "APIxyz")
        assert found is not None and found.account_sid == account["account_sid"]


def test_keys_create_failures(cli: Cli, account: dict[str, Any], tmp_path: Path) -> None:
    ac = account["account_sid"]
    cli.all_fail([
        Case(("keys", "create", "--account", "ACnope"), 2, ("--account", "ACnope")),
        Case(("keys", "create"), 2, ("--account",)),
        Case(("keys", "create", "--account", "AC" + "9" * 32), 1, ("not found",)),
        Case(("keys", "create", "--account", ac, "--sid", "SKbad", "--secret", "s"), 2, ("--sid", "SKbad"), True),
        Case(("keys", "create", "--account", ac, "--sid", "SK" + HEX32), 2, ("--secret",), True),
        Case(("keys", "create", "--account", ac, "--livekit-key", "only-the-key"), 2, ("--livekit-secret",), True),
    ], tmp_path)


def test_token_is_a_twilio_access_token(cli: Cli, account: dict[str, Any]) -> None:
    key = cli.ok("keys", "create", "--account", account["account_sid"])
    r = cli.run("token", "--account", account["account_sid"], "--key", key["sid"], "--secret", key["secret"],
                "--identity", "alice", "--room", "standup", "--ttl", "600")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert r.stdout.count("\n") == 1 and token.count(".") == 2
    header = jwt.get_unverified_header(token)
    assert header["cty"] == TWILIO_CTY == "twilio-fpa;v=1"
    assert header["alg"] == "HS256"
    claims = jwt.decode(token, key["secret"], algorithms=["HS256"])
    assert claims["iss"] == key["sid"] and claims["sub"] == account["account_sid"]
    assert claims["grants"]["identity"] == "alice"
    assert claims["grants"]["video"]["room"] == "standup"
    assert claims["exp"] - claims["iat"] == 600
    assert abs(claims["iat"] - time.time()) < 60
    with cli.store() as s:
        grant = verify_token(s, token)
    assert (grant.account_sid, grant.identity, grant.room) == (account["account_sid"], "alice", "standup")


def test_token_failures(cli: Cli, tmp_path: Path) -> None:
    good = ("--account", "AC" + HEX32, "--key", "SK" + HEX32, "--secret", "s", "--identity", "a")
    cli.all_fail([
        Case(("token", "--account", "ACbad", *good[2:]), 2, ("--account", "ACbad")),
        Case(("token", *good[:2], "--key", "key-1", *good[4:]), 2, ("--key", "key-1")),
        Case(("token", *good, "--ttl", "5"), 2, ("--ttl",)),
        Case(("token", *good[:6]), 2, ("--identity",)),
    ], tmp_path)


# -- import ---------------------------------------------------------------------------------------------

def test_import_every_sample_dump(cli: Cli, account: dict[str, Any]) -> None:
    assert len(DUMPS) >= 16
    made = cli.ok("import", *map(str, DUMPS), "--account", account["account_sid"])
    assert [m["file"] for m in made] == [str(d) for d in DUMPS]
    for m in made:
        assert _is_sid(m["room_sid"], "RM") and _is_sid(m["participant_sid"], "PA"), m
        assert m["samples"] > 0, m
    assert len({m["room_sid"] for m in made}) == len(DUMPS)
    with cli.store() as s:
        assert _room_sids(s, account["account_sid"]) == {m["room_sid"] for m in made}
    again = cli.ok("import", str(DUMPS[0]), str(DUMPS[-1]), "--account", account["account_sid"])
    assert [(a["room_sid"], a["participant_sid"]) for a in again] == \
        [(m["room_sid"], m["participant_sid"]) for m in (made[0], made[-1])]
    with cli.store() as s:
        assert len(_room_sids(s, account["account_sid"])) == len(DUMPS)
    # Every dump was recorded long before today: each room is kept for the period counted from its import.
    for m in made:
        kept = datetime.strptime(m["kept_until"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert abs(kept - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=10), m
    assert cli.ok("purge")["removed"]["rooms"] == 0
    with cli.store() as s:
        assert len(_room_sids(s, account["account_sid"])) == len(DUMPS)


def test_import_of_a_non_dump_is_2_and_stores_nothing(cli: Cli, account: dict[str, Any], tmp_path: Path) -> None:
    ac = account["account_sid"]
    cases = []
    for i, (content, words) in enumerate([
        (b"", ("empty",)),
        (b"just some text\n", ("not a webrtc-internals export or rtcstats dump",)),
        (b'{"hello": "world"}', ("PeerConnections",)),
        (b"\x1f\x8b\x08\x00garbage", ("gzip",)),
    ]):
        bad = tmp_path / f"not-a-dump-{i}.json"
        bad.write_bytes(content)
        # The good file comes first: nothing of it may be stored either.
        cases.append(Case(("import", str(DUMPS[0]), str(bad), "--account", ac), 2, (bad.name, *words), True))
    cases.append(Case(("import", str(DATA / "rtcstats" / "jitsi" / "LICENSE"), "--account", ac), 2, ("LICENSE",),
                      True))
    cli.all_fail(cases, tmp_path)
    with cli.store() as s:
        assert _room_sids(s, ac) == set()


def test_import_usage_errors(cli: Cli, account: dict[str, Any], tmp_path: Path) -> None:
    dump, ac = str(DUMPS[0]), account["account_sid"]
    cli.all_fail([
        Case(("import", dump, "--account", "AC" + "9" * 32), 1, ("AC" + "9" * 32, "not found")),
        Case(("import", dump, "--account", "ACnope"), 2, ("--account",)),
        Case(("import", str(tmp_path / "missing.json"), "--account", ac), 2, ("missing.json",)),
        Case(("import", "--account", ac), 2, ("FILES",)),
        Case(("import", dump), 2, ("--account",)),
        Case(("import", dump, "--account", ac, "--room-type", "huge"), 2, ("--room-type",)),
    ], tmp_path)


# -- purge ----------------------------------------------------------------------------------------------

def _seed_rooms(path: Path, account_sid: str) -> tuple[str, str]:
    """One room ten days old (past the 7-day retention) and one from an hour ago."""
    now = datetime.now(UTC)
    sids = []
    store = DuckDBStore(path)
    try:
        pipeline = Pipeline(store, Settings.from_env({}, store=f"duckdb:///{path}"))
        for ago in (timedelta(days=10), timedelta(hours=1)):
            room, start = "RM" + uuid.uuid4().hex, now - ago
            events = [twilio_callbacks.to_event({
                "AccountSid": account_sid, "RoomSid": room, "RoomName": "purge", "RoomType": "group",
                "StatusCallbackEvent": event, "Timestamp": (start + timedelta(seconds=t)).isoformat(), **extra})
                for event, t, extra in (("room-created", 0, {}), ("room-ended", 60, {"RoomDuration": "60"}))]
            pipeline.write_now((), events)
            sids.append(room)
    finally:
        store.close()
    return sids[0], sids[1]


def test_purge_dry_run_then_purge(cli: Cli, account: dict[str, Any]) -> None:
    old, recent = _seed_rooms(cli.path, account["account_sid"])
    dry = cli.ok("purge", "--dry-run")
    assert dry["dry_run"] is True
    assert dry["would_remove"]["rooms"] == 1
    assert all(isinstance(n, int) for n in dry["would_remove"].values())
    with cli.store() as s:
        assert _room_sids(s, account["account_sid"]) == {old, recent}
    done = cli.ok("purge")
    assert done["dry_run"] is False
    assert done["removed"]["rooms"] == 1
    assert done["removed"]["events"] >= 2
    with cli.store() as s:
        assert _room_sids(s, account["account_sid"]) == {recent}
    assert cli.ok("purge", "--dry-run")["would_remove"]["rooms"] == 0


# -- help, usage, failures ------------------------------------------------------------------------------

def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], click.Command]:
    """Every command and subcommand by its path, as `--help` lists them (lazily loaded ones included)."""
    found: dict[tuple[str, ...], click.Command] = {}
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        found[(*prefix, name)] = command
        if isinstance(command, click.Group):
            found |= _commands(command, (*prefix, name))
    return found


def test_help_of_every_command(cli: Cli) -> None:
    commands = _commands(cli_group)
    paths = [(), *commands]
    assert {("migrate",), ("accounts", "create"), ("keys", "create"), ("token",), ("import",), ("purge",),
            ("serve",)} <= set(paths)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda p: cli.run(*p, "--help"), paths))
    for path, r in zip(paths, results, strict=True):
        assert r.returncode == 0, f"{path}: {r.stderr}"
        assert r.stdout.startswith("Usage: video-insights" + "".join(f" {p}" for p in path)), r.stdout[:200]
        assert r.stderr == ""
    for path, r in zip(paths, results, strict=True):
        if path and not isinstance(commands[path], click.Group):  # every command takes --store (docs/configuration.md)
            assert "--store" in r.stdout, f"{path} does not take --store"
    assert not cli.path.exists()  # asking for help touches no store


def test_version(cli: Cli) -> None:
    r = cli.run("--version")
    assert r.returncode == 0 and r.stdout.startswith("video-insights, version ")


def test_bad_usage_is_2_with_one_line(cli: Cli, tmp_path: Path) -> None:
    cli.all_fail([
        Case(("bogus",), 2, ("bogus",)),
        Case(("migrate", "--bogus"), 2, ("--bogus",)),
        Case(("purge", "now"), 2, ("now",)),
        Case(("migrate", "--store", "postgres://localhost/x"), 2, ("postgres",)),
        Case(("migrate", "--store", "duckdb://"), 2, ("store URL",)),
    ], tmp_path)


def test_unopenable_store_is_1_with_one_line(cli: Cli, tmp_path: Path) -> None:
    directory = tmp_path / "a-directory.duckdb"
    directory.mkdir()
    cli.fails(1, "migrate", "--store", f"duckdb:///{directory}", words=("a-directory.duckdb",))


def test_bad_environment_setting_is_2(cli: Cli) -> None:
    r = cli.run("migrate", env={"VIDEO_INSIGHTS_PORT": "eighty"})
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert "VIDEO_INSIGHTS_PORT" in r.stderr


def test_commands_work_while_serve_holds_the_store(cli: Cli) -> None:
    """DuckDB lets one process open a file: commands go through the running server instead."""
    cli.ok("migrate")
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_INSIGHTS_")}
    environ.update({"VIDEO_INSIGHTS_STORE": cli.url, "VIDEO_INSIGHTS_LOG_LEVEL": "warning"})
    server = subprocess.Popen([EXE, "serve", "--port", str(port)], env=environ)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server, "serve")
        assert Path(str(cli.path) + ".server.json").exists()
        account = cli.ok("accounts", "create", "--friendly-name", "while serving")
        key = cli.ok("keys", "create", "--account", account["account_sid"])
        assert key["sid"].startswith("SK")
        (made,) = cli.ok("import", str(CHROMIUM / "loss8.rtcstats-dump.gz"), "--account", account["account_sid"])
        assert cli.ok("purge", "--dry-run")["dry_run"] is True
        cli.fails(2, "import", str(DATA / "useragents" / "LICENSE"), "--account", account["account_sid"])
        auth = (account["account_sid"], account["auth_token"])
        r = httpx.get(f"http://127.0.0.1:{port}/v1/Video/Rooms/{made['room_sid']}", auth=auth, timeout=30)
        assert r.status_code == 200 and r.json()["issue_types"] == ["packet_loss"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not Path(str(cli.path) + ".server.json").exists()  # the server cleans up after itself
    cli.ok("accounts", "create")  # and the file is the CLI's own again




# -- tenancy: a store the CLI filled, served over HTTP ------------------------------------------------

@contextmanager
def _serve(path: Path) -> Iterator[tuple[str, Any]]:
    settings = Settings.from_env({}, store=f"duckdb:///{path}", writer_flush_ms=20)
    app = create_app(settings)
    try:
        with serving(app) as url:
            yield url, app
    finally:
        app.state.services.store.close()


def test_parent_reads_subaccounts_and_no_account_reads_another(cli: Cli) -> None:
    parent = cli.ok("accounts", "create", "--friendly-name", "parent")
    sub = cli.ok("accounts", "create", "--parent", parent["account_sid"])
    stranger = cli.ok("accounts", "create")
    owners = {"parent": parent, "sub": sub, "stranger": stranger}
    imported = {name: cli.ok("import", str(CHROMIUM / dump), "--account", creds["account_sid"])[0]
                for (name, creds), dump in zip(owners.items(), ("loss8.json.gz", "rtt350.json.gz", "clean.json.gz"),
                                               strict=True)}
    with _serve(cli.path) as (url, app):
        called = {name: callback_room(url, creds["account_sid"], creds["auth_token"], "tenancy")
                  for name, creds in owners.items()}
        app.state.services.settle()

        def client(name: str) -> httpx.Client:
            return httpx.Client(base_url=url, auth=(owners[name]["account_sid"], owners[name]["auth_token"]),
                                timeout=30)

        def paths(name: str) -> list[str]:
            room, participant = imported[name]["room_sid"], imported[name]["participant_sid"]
            return [f"/v1/Video/Rooms/{room}", f"/v1/Video/Rooms/{room}/Participants",
                    f"/v1/Video/Rooms/{room}/Participants/{participant}",
                    f"/v1/Video/Rooms/{room}/Participants/{participant}/Metrics",
                    f"/v1/Video/Rooms/{called[name]}"]

        def listed(c: httpx.Client, **params: str) -> set[str]:
            r = c.get("/v1/Video/Rooms", params={"CreatedAfter": "2020-01-01T00:00:00Z", **params})
            assert r.status_code == 200, r.text
            return {room["room_sid"] for room in r.json()["rooms"]}

        def own(name: str) -> set[str]:
            return {imported[name]["room_sid"], called[name]}

        hour_ago = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def dashboard(c: httpx.Client, **params: str) -> tuple[int, int, float]:
            q = {"_since": hour_ago, **params}
            rooms = c.get("/v1/Video/Dashboard/Rooms", params=q).json()["buckets"]
            people = c.get("/v1/Video/Dashboard/Participants", params={**q, "segment": "os"}).json()["buckets"]
            minutes = c.get("/v1/Video/Dashboard/Minutes", params=q).json()["buckets"]
            return (sum(b["rooms"] for b in rooms), sum(sum(b["counts"].values()) for b in people),
                    sum(b["participant_minutes"] or 0 for b in minutes))

        with client("parent") as p, client("sub") as s, client("stranger") as x:
            # A parent reaches its subaccount's rooms, by SID and with ?AccountSid=.
            for path in paths("sub"):
                assert p.get(path).status_code == 200, path
            assert listed(p, AccountSid=sub["account_sid"]) == own("sub")
            assert listed(p) == own("parent")  # its own list stays its own
            assert dashboard(p, AccountSid=sub["account_sid"]) == dashboard(s)
            # A subaccount does not reach its parent.
            for path in paths("parent"):
                r = s.get(path)
                assert r.status_code == 404, (path, r.text)
            assert s.get("/v1/Video/Rooms", params={"AccountSid": parent["account_sid"]}).status_code == 404
            assert listed(s) == own("sub")
            # Nobody reaches a stranger, and a stranger reaches nobody.
            for c, name in ((x, "parent"), (x, "sub"), (p, "stranger"), (s, "stranger")):
                for path in paths(name):
                    r = c.get(path)
                    assert r.status_code == 404, (path, r.text)
                    assert r.json()["status"] == 404
            assert listed(x) == own("stranger")
            assert x.get("/v1/Video/Rooms", params={"AccountSid": sub["account_sid"]}).status_code == 404
            assert x.get("/v1/Video/Dashboard/Rooms", params={"AccountSid": parent["account_sid"]}).status_code == 404
            # Each dashboard counts its own account's callback room and participant only.
            for c in (p, s, x):
                rooms, participants, minutes = dashboard(c)
                assert (rooms, participants) == (1, 1)
                assert minutes == pytest.approx(99 / 60, abs=0.02)


def test_account_issue_settings_change_what_is_detected(cli: Cli) -> None:
    account = cli.ok("accounts", "create")
    settings = cli.ok("accounts", "settings", "--account", account["account_sid"],
                      "--set", "packet_loss.threshold=10", "--set", "high_jitter.enabled=false")
    assert settings["settings"]["issues"] == {"packet_loss": {"threshold": 10.0},
                                              "high_jitter": {"enabled": False}}
    # loss8 loses 8.07 % of its audio: over Twilio's 5 %, under this account's 10 %.
    (made,) = cli.ok("import", str(CHROMIUM / "loss8.json.gz"), "--account", account["account_sid"])
    store = DuckDBStore(cli.path)
    try:
        pid = made["participant_sid"]
        _, rows = store.fetch(f"SELECT issue_types FROM participants WHERE participant_sid = '{pid}'")
    finally:
        store.close()
    assert "packet_loss" not in rows[0][0]
    cli.fails(2, "accounts", "settings", "--account", account["account_sid"], "--set", "nonsense.threshold=1",
              words=("nonsense",))
    cli.fails(2, "accounts", "settings", "--account", account["account_sid"], "--set", "packet_loss.threshold=x")
