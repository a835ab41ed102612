import { assertNextRev, judgeClaim, type PartClaim, type SessionPart, type UploadSession, type UploadSessionStore } from "./store.ts";

/** Sessions in process memory for tests and single-process local runs; records are cloned so callers cannot alias them. */
export class MemoryUploadSessionStore implements UploadSessionStore {
  readonly backend = "memory" as const;
  readonly #sessions = new Map<string, { session: string; parts: Map<number, string> }>();

  async create(session: UploadSession): Promise<boolean> {
    if (this.#sessions.has(session.id)) return false;
    this.#sessions.set(session.id, { session: JSON.stringify(session), parts: new Map() });
    return true;
  }

  async get(id: string): Promise<UploadSession | null> {
    const entry = this.#sessions.get(id);
    return entry ? (JSON.parse(entry.session) as UploadSession) : null;
  }

  async update(next: UploadSession, expectedRev: number): Promise<boolean> {
    assertNextRev(next, expectedRev);
    const entry = this.#sessions.get(next.id);
    if (!entry || (JSON.parse(entry.session) as UploadSession).rev !== expectedRev) return false;
    entry.session = JSON.stringify(next);
    return true;
  }

  async putPart(id: string, part: SessionPart): Promise<boolean> {
    const entry = this.#sessions.get(id);
    if (!entry) return false;
    entry.parts.set(part.part, JSON.stringify(part));
    return true;
  }

  /** Atomic: nothing awaits between reading the record and writing it. */
  async claimPart(id: string, part: SessionPart): Promise<PartClaim> {
    const entry = this.#sessions.get(id);
    if (!entry) return "missing";
    const recorded = entry.parts.get(part.part);
    const { claim, write } = judgeClaim(recorded === undefined ? undefined : (JSON.parse(recorded) as SessionPart).sha256, part);
    if (write) entry.parts.set(part.part, JSON.stringify(part));
    return claim;
  }

  async listParts(id: string): Promise<SessionPart[]> {
    const entry = this.#sessions.get(id);
    if (!entry) return [];
    return [...entry.parts.entries()].sort(([a], [b]) => a - b).map(([, part]) => JSON.parse(part) as SessionPart);
  }

  async delete(id: string): Promise<void> {
    this.#sessions.delete(id);
  }
}
