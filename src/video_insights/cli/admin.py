"""Administration commands: accounts, keys, tokens, imports, migrations, retention."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlparse

import click

from video_insights.cli import remote
from video_insights.cli.common import emit, fails_cleanly, settings_for, sid_option, store_option
from video_insights.ingest.auth import mint_token
from video_insights.model.vocabulary import RoomType


@click.command()
@click.option("--cluster", default=None, metavar="NAME",
              help="A ClickHouse cluster (clickhouse:// stores): Replicated tables ON CLUSTER NAME behind "
                   "Distributed tables sharded by account.")
@click.option("--print", "print_only", is_flag=True,
              help="Print the DDL (ClickHouse stores) instead of running it; connects to nothing.")
@store_option
@fails_cleanly
def migrate(cluster: str | None, print_only: bool, store: str | None) -> None:
    """Create or upgrade the schema of the configured store."""
    settings = settings_for(store)
    scheme = urlparse(settings.store).scheme
    if cluster is not None and scheme != "clickhouse":
        raise click.UsageError(f"--cluster needs a ClickHouse server store (clickhouse://…), not {scheme}://")
    if print_only:
        if scheme not in ("chdb", "clickhouse"):
            raise click.UsageError(f"--print shows ClickHouse DDL (chdb:// or clickhouse:// stores), not {scheme}://")
        from video_insights.store.clickhouse import ddl
        from video_insights.store.clickhouse.cluster import cluster_for

        statements = (ddl.cluster_schema_ddl(settings, cluster_for(settings.store, cluster)) if cluster is not None
                      else ddl.schema_ddl(settings))
        click.echo("".join(f"{s};\n" for s in statements), nl=False)
        return
    emit(remote.run(settings, "migrate", **({"cluster": cluster} if cluster is not None else {})))


@click.group("accounts")
def accounts_group() -> None:
    """Accounts and subaccounts."""


@accounts_group.command("create")
@click.option("--friendly-name", default=None)
@click.option("--parent", default=None, callback=sid_option("AC"), help="Parent account SID: makes a subaccount.")
@click.option("--sid", default=None, help="Register an existing Twilio account SID (with --auth-token).")
@click.option("--auth-token", default=None)
@store_option
@fails_cleanly
def accounts_create(friendly_name: str | None, parent: str | None, sid: str | None, auth_token: str | None,
                    store: str | None) -> None:
    """Create an account; prints its SID and auth token."""
    emit(remote.run(settings_for(store), "accounts_create", friendly_name=friendly_name, parent=parent, sid=sid,
                    auth_token=auth_token))


@accounts_group.command("settings")
@click.option("--account", required=True, callback=sid_option("AC"), help="The account to change.")
@click.option("--set", "changes", multiple=True, required=True, metavar="ISSUE.threshold=N|ISSUE.enabled=BOOL",
              help="A detected issue's threshold or switch for this account (repeatable).")
@store_option
@fails_cleanly
def accounts_settings(account: str, changes: tuple[str, ...], store: str | None) -> None:
    """Change an account's issue thresholds and switches; prints its settings. Summaries recomputed from
    then on use them."""
    emit(remote.run(settings_for(store), "accounts_settings", account=account, changes=list(changes)))


@click.group("keys")
def keys_group() -> None:
    """API keys (sign access tokens) and LiveKit key pairs (verify webhooks)."""


@keys_group.command("create")
@click.option("--account", required=True, callback=sid_option("AC"), help="The account the key belongs to.")
@click.option("--sid", default=None, help="Register an existing Twilio API key SID (with --secret).")
@click.option("--secret", default=None)
@click.option("--livekit-key", default=None)
@click.option("--livekit-secret", default=None)
@store_option
@fails_cleanly
def keys_create(account: str, sid: str | None, secret: str | None, livekit_key: str | None,
                livekit_secret: str | None, store: str | None) -> None:
    """Create (or register) a key; prints its SID and secret."""
    emit(remote.run(settings_for(store), "keys_create", account=account, sid=sid, secret=secret,
                    livekit_key=livekit_key, livekit_secret=livekit_secret))


@click.command()
@click.option("--account", required=True, callback=sid_option("AC"), help="Account SID (the token's sub).")
@click.option("--key", "key_sid", required=True, callback=sid_option("SK"), help="API key SID (the token's iss).")
@click.option("--secret", required=True, help="The API key's secret (signs the token).")
@click.option("--identity", required=True)
@click.option("--room", default=None, help="Room name for the video grant.")
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(60, 86400), help="Seconds.")
@store_option
@fails_cleanly
def token(account: str, key_sid: str, secret: str, identity: str, room: str | None, ttl: int,
          store: str | None) -> None:
    """Print an access token for the collector (or any gateway client). Needs no store: `--store` is
    accepted like on every command, and unused."""
    click.echo(mint_token(account, key_sid, secret, identity, room=room, ttl=ttl))


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", required=True, callback=sid_option("AC"), help="The account the rooms belong to.")
@click.option("--room-type", default=RoomType.GROUP.value, type=click.Choice([t.value for t in RoomType]))
@click.option("--identity", default=None)
@store_option
@fails_cleanly
def import_cmd(files: tuple[Path, ...], account: str, room_type: str, identity: str | None,
               store: str | None) -> None:
    """Import webrtc-internals or rtcstats dumps; prints the rooms and participants made."""
    payload = [{"name": f.name, "path": str(f), "data": base64.b64encode(f.read_bytes()).decode()} for f in files]
    emit(remote.run(settings_for(store), "import_dumps", files=payload, account=account, room_type=room_type,
                    identity=identity))


@click.command()
@click.option("--dry-run", is_flag=True, help="Count what would go, remove nothing.")
@store_option
@fails_cleanly
def purge(dry_run: bool, store: str | None) -> None:
    """Apply the retention policy now; prints what it removed (or would)."""
    emit(remote.run(settings_for(store), "purge", dry_run=dry_run))


COMMANDS = (migrate, accounts_group, keys_group, token, import_cmd, purge)
