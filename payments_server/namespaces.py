"""Namespaces: many isolated accounts on one gateway, one per test, developer or pipeline.

Each namespace is a whole Account (balance, orders, sessions, rules, clock and timers,
keys, callbacks, activity) built from the gateway's settings with its own balance and
callback URL. The default namespace is the account the gateway has always had. Others are
made on first use, kept until deleted or idle for too long on the gateway's clock, and,
with a state file, each has a journal of its own beside it, so a restart brings every one
back.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from .account import Account
from .callbacks.connection_pool import ConnectionPool
from .collector import thaw
from .config import Settings
from .core.journal import JournalError
from .core.jsonio import format_time
from .core.money import format_balance
from .core.namespace_names import DEFAULT, NamespaceError, NamespaceOptions, check_name
from .publishing.kafka import EventPublisher

log = logging.getLogger("payments_server.namespaces")


@dataclass(slots=True)
class Namespace:
    """One namespace: its name, its account, how it was made, when it was last used."""

    name: str
    account: Account
    options: NamespaceOptions
    created_at: datetime
    used_at: datetime

    def to_json(self) -> dict[str, object]:
        """The namespace as GET /namespaces lists it."""
        settings = self.account.settings
        return {
            "name": self.name,
            "balance": format_balance(self.account.flow.summary().balance),
            "initial_balance": format_balance(settings.initial_balance),
            "callback_url": settings.callback_url,
            "created_at": format_time(self.created_at),
            "last_used_at": format_time(self.used_at),
        }


# Builds an account for settings: Account.from_settings with the app's surfaces, agent and
# the shared parts (event publisher, stream slots, store connections).
AccountFactory = Callable[[Settings, str | None], Account]
# How often a request to a namespace also looks for idle ones to let go, on the default
# namespace's clock.
SWEEP_EVERY = timedelta(seconds=60)


class Namespaces:
    """Every namespace of one gateway, the default first; safe to use from any thread."""

    def __init__(
        self,
        default: Account,
        make: AccountFactory,
        publisher: EventPublisher | None = None,
        connections: ConnectionPool | None = None,
    ) -> None:
        self.default = default
        self._publisher = publisher
        self._connections = connections
        self._settings = default.settings
        self._make = make
        self._lock = threading.Lock()
        # Least recently used first, so that expiry looks at the oldest only.
        self._named: OrderedDict[str, Namespace] = OrderedDict()
        now = self._now()
        self._default = Namespace(DEFAULT, default, NamespaceOptions(), now, now)
        self._swept_at = now
        self._folder = _folder(self._settings.state_file)

    @property
    def cap(self) -> int:
        """How many namespaces besides the default may exist at once."""
        return self._settings.max_namespaces

    def account(self, name: str) -> Account:
        """The account of a namespace, made on first use; raises NamespaceError (400 for a
        bad name, 503 past --max-namespaces)."""
        if name == DEFAULT:
            return self.default
        sweep = False
        with self._lock:
            found = self._named.get(name)
            if found is not None:
                now = found.used_at = self._now()
                self._named.move_to_end(name)
                # Idle namespaces go on the requests to the others too, not only when one
                # is made or listed: at most one look a minute, at the oldest only.
                sweep = now - self._swept_at >= SWEEP_EVERY
        if found is not None:
            if sweep:
                self._expire()
            return found.account
        return self.create(name, NamespaceOptions(), exists_ok=True).account

    def create(self, name: str, options: NamespaceOptions, *, exists_ok: bool = False) -> Namespace:
        """Make a namespace with its own balance and callback URL; raises NamespaceError:
        400 (bad name or options), 409 (exists, unless `exists_ok`), 503 (at the cap)."""
        check_name(name)
        if name == DEFAULT:
            raise NamespaceError(409, "The default namespace always exists")
        settings = self._settings_for(name, options)
        self._expire()
        with self._lock:
            found = self._named.get(name)
            if found is not None:
                if exists_ok:
                    return found
                raise NamespaceError(409, f"Namespace {name!r} already exists")
            if len(self._named) >= self.cap:
                raise NamespaceError(
                    503,
                    f"This gateway holds {self.cap} namespaces, its most (--max-namespaces);"
                    " delete one or wait for an idle one to expire",
                )
            # Made under the lock: two first requests at once make one account, not two
            # sharing a journal. It costs about a millisecond (docs/namespaces.md).
            account = self._build(name, settings, options)
            now = self._now()
            made = self._named[name] = Namespace(name, account, options, now, now)
        log.info("namespace %s created", name)
        return made

    def get(self, name: str) -> Namespace | None:
        """A namespace, without making it or counting a use."""
        if name == DEFAULT:
            return self._default
        with self._lock:
            return self._named.get(name)

    def delete(self, name: str) -> bool:
        """Forget a namespace and its journal; False if there was none. The default stays."""
        if name == DEFAULT:
            raise NamespaceError(409, "The default namespace cannot be deleted; reset it")
        with self._lock:
            gone = self._named.pop(name, None)
        if gone is None:
            return False
        self._drop(gone)
        log.info("namespace %s deleted", name)
        return True

    def __iter__(self) -> Iterator[Namespace]:
        self._expire()
        with self._lock:
            named = sorted(self._named.values(), key=lambda space: space.name)
        return iter([self._default, *named])

    def __len__(self) -> int:
        with self._lock:
            return 1 + len(self._named)

    def accounts(self) -> list[Account]:
        """Every account, the default first."""
        with self._lock:
            return [self.default, *(space.account for space in self._named.values())]

    def restore(self) -> None:
        """Bring back every namespace kept beside the state file (at start)."""
        if self._folder is None or not self._folder.is_dir():
            return
        for kept in sorted(self._folder.glob("*.json")):
            name = kept.stem
            try:
                options = NamespaceOptions.from_json(json.loads(kept.read_text("utf-8")))
                self.create(check_name(name), options)
            except (OSError, ValueError, NamespaceError) as exc:
                raise JournalError(f"{kept}: cannot restore namespace {name!r}: {exc}") from None

    def wake(self) -> None:
        """Wake every account's waiting streams (a client left)."""
        for account in self.accounts():
            account.events.wake()

    def close(self) -> int:
        """Close every account and what they share (the Kafka client, the connections to
        stores); return how many callbacks were pending in all."""
        with self._lock:
            named = list(self._named.values())
        pending = self.default.close() + sum(space.account.close() for space in named)
        if self._publisher is not None:
            self._publisher.close()
        if self._connections is not None:
            self._connections.close()
        return pending

    def _settings_for(self, name: str, options: NamespaceOptions) -> Settings:
        changes: dict[str, object] = {}
        if options.balance is not None:
            changes["initial_balance"] = options.balance
        if options.callback_url is not None:
            changes["callback_url"] = options.callback_url
        if self._folder is not None:
            changes["state_file"] = str(self._folder / f"{name}.jsonl")
        try:
            return replace(self._settings, **changes)  # type: ignore[arg-type]
        except ValueError as exc:
            raise NamespaceError(400, str(exc).replace("--initial-balance", "balance")) from None

    def _build(self, name: str, settings: Settings, options: NamespaceOptions) -> Account:
        if self._folder is not None:
            self._folder.mkdir(exist_ok=True)
            kept = self._folder / f"{name}.json"
            if not kept.exists():
                _write_atomically(kept, json.dumps(options.to_json()))
        return self._make(settings, name)

    def _expire(self) -> None:
        """Delete the namespaces idle longer than --namespace-idle, oldest first."""
        idle = self._settings.namespace_idle
        if idle == 0:
            return
        now = self._now()
        oldest = now - timedelta(seconds=idle)
        expired: list[Namespace] = []
        with self._lock:
            self._swept_at = now
            while self._named:
                space = next(iter(self._named.values()))
                if space.used_at > oldest:
                    break
                expired.append(self._named.popitem(last=False)[1])
        for space in expired:
            log.info("namespace %s expired after %d s idle", space.name, idle)
            self._drop(space)

    def _drop(self, space: Namespace) -> None:
        space.account.close()
        thaw()  # the account's objects, frozen if a full collection saw them, may go now
        if self._folder is not None:
            for path in (self._folder / f"{space.name}.jsonl", self._folder / f"{space.name}.json"):
                path.unlink(missing_ok=True)

    def _now(self) -> datetime:
        return self.default.clock.now()


def _folder(state_file: str | None) -> Path | None:
    """Where namespaces' journals live: beside the state file, in <file>.namespaces/."""
    return None if state_file is None else Path(state_file + ".namespaces")


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(text, "utf-8")
    os.replace(partial, path)
