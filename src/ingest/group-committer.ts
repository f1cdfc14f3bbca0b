import type { IngestOutcome, Storage, WorkspaceBatch } from '../storage/storage.js';

interface Pending {
  batch: WorkspaceBatch;
  resolve: (outcome: IngestOutcome) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitterOptions {
  /** How long the first waiting request waits for others to join its commit. */
  delayMs: number;
  /** Commit at once when this many events wait. */
  maxEvents: number;
  /** Refuse (429) when this many events wait, so memory stays bounded under overload. */
  maxQueuedEvents: number;
  onCommit?: (events: number, ms: number) => void;
}

/**
 * Group commit: concurrent requests share one durable transaction, and each request's promise settles only after
 * that transaction committed (or failed). One commit is in flight at a time.
 * @example const outcome = await committer.submit({ workspaceId, timeZone, events })
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private queuedEvents = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;

  constructor(
    private readonly storage: Storage,
    private readonly options: GroupCommitterOptions,
  ) {}

  /** False when the queue is full; the caller answers 429 with Retry-After. */
  hasRoom(events: number): boolean {
    return this.queuedEvents + events <= this.options.maxQueuedEvents;
  }

  submit(batch: WorkspaceBatch): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.queuedEvents += batch.events.length;
      this.schedule();
    });
  }

  /** Commits what is waiting; resolves when the queue is empty. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) {
      if (!this.flushing) await this.flush();
      else await new Promise((r) => setTimeout(r, 1));
    }
  }

  private schedule(): void {
    if (this.flushing) return;
    if (this.queuedEvents >= this.options.maxEvents) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.options.delayMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const taken: Pending[] = [];
    let events = 0;
    while (this.queue.length > 0 && (taken.length === 0 || events < this.options.maxEvents)) {
      const next = this.queue.shift()!;
      taken.push(next);
      events += next.batch.events.length;
    }
    this.queuedEvents -= events;
    const started = performance.now();
    try {
      const outcomes = await this.storage.ingest(taken.map((p) => p.batch));
      this.options.onCommit?.(events, performance.now() - started);
      taken.forEach((p, i) => {
        p.resolve(outcomes[i]!);
      });
    } catch (error) {
      // One request's events must not fail the others it was grouped with: commit each alone, so only the request
      // that cannot be stored is refused. A database that is down refuses them all at once.
      if (taken.length === 1 || !(await this.storage.ping())) for (const p of taken) p.reject(error);
      else
        for (const p of taken) {
          try {
            const [outcome] = await this.storage.ingest([p.batch]);
            p.resolve(outcome!);
          } catch (alone) {
            p.reject(alone);
          }
        }
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
