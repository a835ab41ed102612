import { DurableObject } from "cloudflare:workers";
import { assertNextRev, judgeClaim, type PartClaim, type SessionPart, type UploadSession, type UploadSessionStore } from "./store.ts";

const SCHEMA = [
  // One row: the session as JSON, with its rev beside it so the compare-and-set is one UPDATE ... WHERE rev = ?.
  "CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY, rev INTEGER NOT NULL, body TEXT NOT NULL)",
  // INTEGER PRIMARY KEY is the rowid: listing in part order is a walk of the table's own b-tree.
  "CREATE TABLE IF NOT EXISTS parts (part INTEGER PRIMARY KEY, size INTEGER NOT NULL, sha256 TEXT NOT NULL, etag TEXT NOT NULL)",
];

/**
 * One upload session on Workers: one object per session id (`idFromName(id)`), SQLite storage holding the session
 * row and its parts (docs/STORAGE.md "Upload sessions"). Every method runs its SQL synchronously with no await in
 * between, and an object runs one such call at a time, so create-if-absent, the compare-and-set on `rev`, a part
 * written only while the session exists, and a part's digest claim are each atomic without a lock.
 *
 * The tables are created by the first `create`, not by the constructor: a read of an id that never existed (a
 * guessed upload id) then writes nothing, and `delete` (`deleteAll`) leaves the object with no storage at all.
 */
export class UploadSessions extends DurableObject {
  create(session: UploadSession): boolean {
    const sql = this.ctx.storage.sql;
    for (const statement of SCHEMA) sql.exec(statement);
    // RETURNING, not `rowsWritten`: that counts the primary key index's write too.
    const inserted = sql.exec(
      "INSERT INTO session (id, rev, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
      session.id,
      session.rev,
      JSON.stringify(session),
    );
    return inserted.toArray().length === 1;
  }

  get(): UploadSession | null {
    if (!this.#exists()) return null;
    const [row] = this.ctx.storage.sql.exec<{ body: string }>("SELECT body FROM session").toArray();
    return row ? (JSON.parse(row.body) as UploadSession) : null;
  }

  update(next: UploadSession, expectedRev: number): boolean {
    if (!this.#exists()) return false;
    const updated = this.ctx.storage.sql.exec("UPDATE session SET rev = ?, body = ? WHERE rev = ? RETURNING id", next.rev, JSON.stringify(next), expectedRev);
    return updated.toArray().length === 1;
  }

  putPart(part: SessionPart): boolean {
    if (!this.#exists()) return false;
    this.ctx.storage.sql.exec(
      `INSERT INTO parts (part, size, sha256, etag) VALUES (?, ?, ?, ?)
       ON CONFLICT(part) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, etag = excluded.etag`,
      part.part,
      part.size,
      part.sha256,
      part.etag,
    );
    return true;
  }

  claimPart(part: SessionPart): PartClaim {
    if (!this.#exists()) return "missing";
    const [recorded] = this.ctx.storage.sql.exec<{ sha256: string }>("SELECT sha256 FROM parts WHERE part = ?", part.part).toArray();
    const { claim, write } = judgeClaim(recorded?.sha256, part);
    if (write) this.putPart(part);
    return claim;
  }

  listParts(): SessionPart[] {
    if (!this.#exists()) return [];
    return this.ctx.storage.sql
      .exec<{ part: number; size: number; sha256: string; etag: string }>("SELECT part, size, sha256, etag FROM parts ORDER BY part")
      .toArray();
  }

  /** Drops both tables with everything in them: the object is left with no storage, as if it had never been used. */
  async delete(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  /** Whether a session row was ever written (and not deleted since); reading the schema writes nothing. */
  #exists(): boolean {
    return this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session'").toArray().length === 1;
  }
}

/** The part of a Durable Object namespace binding this store uses; `Id` is whatever `idFromName` returns. */
export interface UploadSessionsNamespace<Id> {
  idFromName(name: string): Id;
  get(id: Id): {
    create(session: UploadSession): Promise<boolean>;
    get(): Promise<UploadSession | null>;
    update(next: UploadSession, expectedRev: number): Promise<boolean>;
    putPart(part: SessionPart): Promise<boolean>;
    claimPart(part: SessionPart): Promise<PartClaim>;
    listParts(): Promise<SessionPart[]>;
    delete(): Promise<void>;
  };
}

/**
 * Sends each call to the `UploadSessions` object of its session over RPC. A stub error propagates: the request
 * fails and nothing is assumed written.
 */
export class DurableObjectUploadSessionStore<Id> implements UploadSessionStore {
  readonly backend = "durable-object" as const;
  readonly #namespace: UploadSessionsNamespace<Id>;

  constructor(namespace: UploadSessionsNamespace<Id>) {
    this.#namespace = namespace;
  }

  create(session: UploadSession): Promise<boolean> {
    return this.#object(session.id).create(session);
  }

  get(id: string): Promise<UploadSession | null> {
    return this.#object(id).get();
  }

  async update(next: UploadSession, expectedRev: number): Promise<boolean> {
    assertNextRev(next, expectedRev);
    return this.#object(next.id).update(next, expectedRev);
  }

  putPart(id: string, part: SessionPart): Promise<boolean> {
    return this.#object(id).putPart(part);
  }

  /** One call to the session's object, which runs the read and the write with nothing in between: the claim is atomic. */
  claimPart(id: string, part: SessionPart): Promise<PartClaim> {
    return this.#object(id).claimPart(part);
  }

  listParts(id: string): Promise<SessionPart[]> {
    return this.#object(id).listParts();
  }

  delete(id: string): Promise<void> {
    return this.#object(id).delete();
  }

  #object(id: string): ReturnType<UploadSessionsNamespace<Id>["get"]> {
    return this.#namespace.get(this.#namespace.idFromName(id));
  }
}
