"""Every channel message and its answer in one database: the one place that decides who answers and how.

WeChat sends a message up to three times when the reply is slow, possibly to different workers or API
hosts, and a worker may restart in between. Each message is one row keyed by its MsgId (events: sender
and time); its answer is stored in parts, and each part is claimed exactly once by whatever delivers
it: the message's own passive reply, the reply to the user's next message, or a pushed message. Each
claim is decided inside one write transaction that reads the part's state and changes it, so two
workers can never deliver the same part.

The database is the data home's SQLite file by default, or PostgreSQL shared by several hosts
(`open_ledger` chooses by `settings.database_url`). `Ledger` is written once over the `Database`
adapter of `api.channels.store` rather than once per database: its guarantees live in the Python
around the statements, and the adapter adds what PostgreSQL needs for the same guarantees (row locks
where SQLite's `BEGIN IMMEDIATE` locks the whole file; see that module).

The tables keep the names of the first channels (wechat_messages, wechat_parts), and the rows of each
channel are apart by its name: renaming them would drop the answers in flight when a server upgrades.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from api.channels.store import Database, SqliteDatabase, channel_database
from api.config import ApiSettings

# The file keeps the first channels' name: renaming it would drop the answers in flight when a server
# upgrades. Every channel's rows are apart in it by the channel's name.
LEDGER_FILE = "wechat.sqlite3"

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS wechat_messages (
    channel TEXT NOT NULL,
    key TEXT NOT NULL,
    user TEXT NOT NULL,
    at REAL NOT NULL,
    question TEXT NOT NULL DEFAULT '',
    media_id TEXT NOT NULL DEFAULT '',
    spoken INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    job INTEGER NOT NULL DEFAULT 0,        -- an answer is being worked out for it
    owner TEXT NOT NULL DEFAULT '',
    lease_until REAL NOT NULL DEFAULT 0,   -- after this, another worker may take the job over
    ready INTEGER NOT NULL DEFAULT 0,      -- its answer parts are stored
    promised INTEGER NOT NULL DEFAULT 0,   -- parts not carried by its own reply go out by push or later
    reply TEXT,                            -- the passive reply given ('' = none), repeated to retries
    speech TEXT NOT NULL DEFAULT '',
    voice TEXT NOT NULL DEFAULT '',        -- voice reply: '' none, 'owed', 'sending', 'sent', 'failed'
    PRIMARY KEY (channel, key)
);
CREATE INDEX IF NOT EXISTS wechat_messages_by_user ON wechat_messages(channel, user, at);
CREATE TABLE IF NOT EXISTS wechat_parts (
    channel TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    user TEXT NOT NULL,
    text TEXT NOT NULL,
    delivered TEXT,                        -- NULL, 'reply:<key>', 'pushing', 'push'
    claimed_at REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, key, seq)
);
CREATE INDEX IF NOT EXISTS wechat_parts_by_user ON wechat_parts(channel, user, delivered);
"""

# The same tables; flags stay integers so that one SQL text serves both databases. "user" is quoted
# because PostgreSQL reserves the word. The partial indexes serve the sweeps every host runs.
_POSTGRES_STEPS = (
    """
CREATE TABLE wechat_messages (
    channel text NOT NULL,
    key text NOT NULL,
    "user" text NOT NULL,
    at double precision NOT NULL,
    question text NOT NULL DEFAULT '',
    media_id text NOT NULL DEFAULT '',
    spoken integer NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0,
    job integer NOT NULL DEFAULT 0,
    owner text NOT NULL DEFAULT '',
    lease_until double precision NOT NULL DEFAULT 0,
    ready integer NOT NULL DEFAULT 0,
    promised integer NOT NULL DEFAULT 0,
    reply text,
    speech text NOT NULL DEFAULT '',
    voice text NOT NULL DEFAULT '',
    PRIMARY KEY (channel, key)
);
CREATE INDEX wechat_messages_by_user ON wechat_messages (channel, "user", at);
CREATE INDEX wechat_messages_by_age ON wechat_messages (channel, at);
CREATE INDEX wechat_messages_unfinished ON wechat_messages (channel, lease_until) WHERE job = 1 AND ready = 0;
CREATE TABLE wechat_parts (
    channel text NOT NULL,
    key text NOT NULL,
    seq integer NOT NULL,
    "user" text NOT NULL,
    text text NOT NULL,
    delivered text,
    claimed_at double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, key, seq)
);
CREATE INDEX wechat_parts_by_user ON wechat_parts (channel, "user", delivered);
CREATE INDEX wechat_parts_waiting ON wechat_parts (channel) WHERE delivered IS NULL;
""",
)

# Parts of a message whose answer goes out by push or with the user's next message.
_RELEASED = (
    "EXISTS (SELECT 1 FROM wechat_messages m"
    " WHERE m.channel = p.channel AND m.key = p.key AND m.promised = 1)"
)
_CLAIM = (
    "UPDATE wechat_parts SET delivered = %s, claimed_at = %s WHERE channel = %s AND key = %s AND seq = %s"
)


@dataclass(frozen=True)
class Registration:
    attempts: int
    """How many requests for this message have arrived, this one included."""
    inserted: bool
    reply: str | None


@dataclass(frozen=True)
class MessageState:
    ready: bool
    promised: bool
    reply: str | None


@dataclass(frozen=True)
class Job:
    key: str
    user: str
    question: str
    media_id: str
    spoken: bool


@dataclass(frozen=True)
class Part:
    key: str
    seq: int
    user: str
    text: str


class Ledger:
    def __init__(self, database: Database | Path, channel: str) -> None:
        """`database`: a `Database`, or the path of a SQLite file."""
        self.channel = channel
        self._db = SqliteDatabase(database) if isinstance(database, Path) else database
        self._db.create("wechat_ledger", _SQLITE_SCHEMA, _POSTGRES_STEPS)

    def close(self) -> None:
        self._db.close()

    def register(
        self,
        key: str,
        user: str,
        question: str,
        media_id: str,
        spoken: bool,
        owner: str = "",
        lease_s: float = 0.0,
    ) -> Registration:
        """Counts a request for the message; the first one records it, leased to `owner` when it is a
        question (so a worker that dies right after is replaced, and the question is not lost)."""
        with self._db.write() as db:
            # A second host inserting the same key waits for the first one's row, then inserts nothing.
            inserted = db.execute(
                'INSERT INTO wechat_messages(channel, key, "user", at, question, media_id, spoken,'
                " job, owner, lease_until) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (channel, key) DO NOTHING",
                (
                    self.channel,
                    key,
                    user,
                    time.time(),
                    question,
                    media_id,
                    int(spoken),
                    int(bool(owner)),
                    owner,
                    time.time() + lease_s,
                ),
            ).rowcount
            attempts, reply = db.execute(
                "UPDATE wechat_messages SET attempts = attempts + 1 WHERE channel = %s AND key = %s"
                " RETURNING attempts, reply",
                (self.channel, key),
            ).fetchone()
        return Registration(attempts, inserted == 1, reply)

    def state(self, key: str) -> MessageState:
        with self._db.read() as db:
            ready, promised, reply = db.execute(
                "SELECT ready, promised, reply FROM wechat_messages WHERE channel = %s AND key = %s",
                (self.channel, key),
            ).fetchone()
        return MessageState(bool(ready), bool(promised), reply)

    def set_reply(self, key: str, reply: str, answer_later: bool = False) -> None:
        """The message's passive reply ('' = none). With `answer_later` its answer is still worked out
        and goes out by push or with a later message; otherwise it needs no answer."""
        with self._db.write() as db:
            db.execute(
                "UPDATE wechat_messages SET reply = %s, job = CASE WHEN %s = 1 THEN job ELSE 0 END,"
                " promised = %s WHERE channel = %s AND key = %s",
                (reply, int(answer_later), int(answer_later), self.channel, key),
            )

    def job(self, key: str) -> Job:
        with self._db.read() as db:
            user, question, media_id, spoken = db.execute(
                'SELECT "user", question, media_id, spoken FROM wechat_messages'
                " WHERE channel = %s AND key = %s",
                (self.channel, key),
            ).fetchone()
        return Job(key, user, question, media_id, bool(spoken))

    def finish(self, key: str, parts: list[str], speech: str, voice: bool) -> bool:
        """Stores the answer; True when it is promised (to be pushed or carried by a later message)."""
        with self._db.write() as db:
            # Locked, so that `promise` either lands before (and is seen here) or finds it ready.
            row = db.execute(
                'SELECT "user", ready, promised FROM wechat_messages m WHERE channel = %s AND key = %s'
                + self._db.lock_rows("m"),
                (self.channel, key),
            ).fetchone()
            user, ready, promised = row
            if ready:  # another worker that took the job over finished first
                return False
            db.executemany(
                'INSERT INTO wechat_parts(channel, key, seq, "user", text) VALUES (%s, %s, %s, %s, %s)',
                [(self.channel, key, seq, user, text) for seq, text in enumerate(parts)],
            )
            db.execute(
                "UPDATE wechat_messages SET ready = 1, speech = %s, voice = %s"
                " WHERE channel = %s AND key = %s",
                (speech, "owed" if voice else "", self.channel, key),
            )
        return bool(promised)

    def reply_with_answer(self, key: str, more_notice: str) -> str:
        """The message's own passive reply: its first part (again, for a retry), the rest released."""
        carrier = f"reply:{key}"
        with self._db.write() as db:
            parts = db.execute(
                "SELECT seq, text, delivered FROM wechat_parts p WHERE channel = %s AND key = %s ORDER BY seq"
                + self._db.lock_rows("p"),
                (self.channel, key),
            ).fetchall()
            seq, text, delivered = parts[0]
            if delivered not in (None, carrier):
                # Already delivered another way: this request must not deliver it again.
                reply = ""
            else:
                db.execute(
                    _CLAIM,
                    (carrier, time.time(), self.channel, key, seq),
                )
                reply = text + (more_notice if len(parts) > 1 else "")
            db.execute(
                "UPDATE wechat_messages SET reply = %s, promised = CASE WHEN %s = 1 THEN 1 ELSE promised END"
                " WHERE channel = %s AND key = %s",
                (reply, int(len(parts) > 1), self.channel, key),
            )
        return reply

    def promise(self, key: str, holding: str) -> bool:
        """Gives the holding notice as the reply if the answer is still not ready (atomically)."""
        with self._db.write() as db:
            changed = db.execute(
                "UPDATE wechat_messages SET promised = 1, reply = %s"
                " WHERE channel = %s AND key = %s AND ready = 0",
                (holding, self.channel, key),
            ).rowcount
        return changed == 1

    def carry_owed(self, user: str, key: str, max_bytes: int, reserve: int) -> tuple[list[str], bool]:
        """Claims the user's waiting parts, oldest first, as many as fit in one reply to message `key`.
        Returns them and whether more remain."""
        with self._db.write() as db:
            # Locked rather than skipped: a part being pushed right now is waited for and then left out,
            # and the oldest parts still come first.
            rows = db.execute(
                "SELECT p.key, p.seq, p.text FROM wechat_parts p JOIN wechat_messages m"
                " ON m.channel = p.channel AND m.key = p.key"
                f' WHERE p.channel = %s AND p."user" = %s AND p.delivered IS NULL AND {_RELEASED}'
                " ORDER BY m.at, p.key, p.seq" + self._db.lock_rows("p"),
                (self.channel, user),
            ).fetchall()
            taken: list[str] = []
            size = 0
            for part_key, seq, text in rows:
                cost = len(text.encode("utf-8")) + 2
                if taken and size + cost > max_bytes - reserve:
                    break
                db.execute(
                    _CLAIM,
                    (f"reply:{key}", time.time(), self.channel, part_key, seq),
                )
                taken.append(text)
                size += cost
        return taken, len(rows) > len(taken)

    def claim_pushes(self, key: str | None = None) -> list[Part]:
        """Released, undelivered parts (of one message, or all) marked as being pushed by the caller."""
        where = "AND p.key = %s" if key is not None else ""
        args: tuple[str, ...] = (self.channel, key) if key is not None else (self.channel,)
        with self._db.write() as db:
            # Parts another host is claiming at this moment are its to push.
            rows = db.execute(
                f'SELECT p.key, p.seq, p."user", p.text FROM wechat_parts p WHERE p.channel = %s {where}'
                f" AND p.delivered IS NULL AND {_RELEASED} ORDER BY p.key, p.seq" + self._db.claim_rows("p"),
                args,
            ).fetchall()
            for part_key, seq, _, _ in rows:
                db.execute(
                    "UPDATE wechat_parts SET delivered = 'pushing', claimed_at = %s"
                    " WHERE channel = %s AND key = %s AND seq = %s",
                    (time.time(), self.channel, part_key, seq),
                )
        return [Part(*row) for row in rows]

    def pushed(self, part: Part, ok: bool) -> None:
        """A push ended: delivered, or back to waiting for the user's next message (never lost)."""
        with self._db.write() as db:
            db.execute(
                "UPDATE wechat_parts SET delivered = %s WHERE channel = %s AND key = %s AND seq = %s"
                " AND delivered = 'pushing'",
                ("push" if ok else None, self.channel, part.key, part.seq),
            )

    def claim_voice(self, key: str) -> tuple[str, str] | None:
        """(user, speech) when this caller is to send the message's voice reply."""
        # One guarded UPDATE: PostgreSQL re-reads `voice` after waiting for a row lock, so only one
        # caller finds it 'owed'. Not SKIP LOCKED: a row locked for an unrelated reason (a retry being
        # counted) would make the one caller that was to send it skip it, and nothing sweeps voices.
        with self._db.write() as db:
            row = db.execute(
                "UPDATE wechat_messages SET voice = 'sending'"
                " WHERE channel = %s AND key = %s AND voice = 'owed'"
                ' RETURNING "user", speech',
                (self.channel, key),
            ).fetchone()
        return (row[0], row[1]) if row else None

    def voice_done(self, key: str, ok: bool) -> None:
        with self._db.write() as db:
            db.execute(
                "UPDATE wechat_messages SET voice = %s WHERE channel = %s AND key = %s",
                ("sent" if ok else "failed", self.channel, key),
            )

    def take_over(self, owner: str, lease_s: float) -> list[str]:
        """Unfinished jobs whose worker stopped (lease expired), now leased to `owner`."""
        now = time.time()
        with self._db.write() as db:
            rows = db.execute(
                "UPDATE wechat_messages SET owner = %s, lease_until = %s WHERE channel = %s AND key IN"
                " (SELECT w.key FROM wechat_messages w"
                "  WHERE w.channel = %s AND w.job = 1 AND w.ready = 0 AND w.lease_until < %s"
                + self._db.claim_rows("w")
                + ") RETURNING key",
                (owner, now + lease_s, self.channel, self.channel, now),
            ).fetchall()
        return [row[0] for row in rows]

    def release(self, owner: str) -> None:
        """Leaves this worker's unfinished jobs to the next worker that sweeps (on shutdown)."""
        with self._db.write() as db:
            db.execute(
                "UPDATE wechat_messages SET lease_until = 0 WHERE channel = %s AND owner = %s AND ready = 0",
                (self.channel, owner),
            )

    def tidy(self, stale_push_s: float, keep_s: float) -> None:
        """Pushes cut off by a crash go back to waiting; old conversations are forgotten."""
        now = time.time()
        with self._db.write() as db:
            # Every host sweeps; one tidying at a time is enough, and two deleting the same rows in
            # different orders could deadlock.
            if not self._db.try_exclusive(db, f"wechat-tidy:{self.channel}"):
                return
            db.execute(
                "UPDATE wechat_parts SET delivered = NULL WHERE channel = %s AND delivered = 'pushing'"
                " AND claimed_at < %s",
                (self.channel, now - stale_push_s),
            )
            old = "SELECT key FROM wechat_messages WHERE channel = %s AND at < %s"
            db.execute(
                f"DELETE FROM wechat_parts WHERE channel = %s AND key IN ({old})",
                (self.channel, self.channel, now - keep_s),
            )
            db.execute(
                "DELETE FROM wechat_messages WHERE channel = %s AND at < %s", (self.channel, now - keep_s)
            )


def open_ledger(settings: ApiSettings, channel: str) -> Ledger:
    """The channel's ledger: in PostgreSQL when `settings.database_url` is set, shared by every host;
    otherwise in the data home's SQLite file, shared by the workers of this one."""
    return Ledger(channel_database(settings, LEDGER_FILE), channel)
