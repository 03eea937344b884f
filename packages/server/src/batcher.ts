import type { CachedAnswer } from './cache.js';
import type { LookupQuery } from './engine.js';

/** The client of a query disconnected before the model got to it: its work was dropped. */
export class LookupAbortedError extends Error {
  constructor() {
    super('the client disconnected');
    this.name = 'LookupAbortedError';
  }
}

interface Pending {
  query: LookupQuery;
  signal?: AbortSignal;
  resolve(answer: CachedAnswer): void;
  reject(error: unknown): void;
}

/**
 * Queries that arrive together, answered in shared model rounds. Queries group by what one
 * scorer serves (genome, distance, mask); a round takes up to `maxBatch` of one group. One turn of
 * the event loop passes before the first round, so requests that arrive together share it, and a
 * query whose client left before its round is rejected unscored.
 */
export class QueryBatcher {
  private readonly pending = new Map<string, Pending[]>();
  private draining = false;
  /** Model rounds run, for tests and health. */
  rounds = 0;

  constructor(
    /** Answers one group's queries, in order; every query of a call shares genome, distance and mask. */
    private readonly round: (queries: LookupQuery[]) => Promise<CachedAnswer[]>,
    private readonly maxBatch = Number.POSITIVE_INFINITY,
  ) {}

  submit(query: LookupQuery, signal?: AbortSignal): Promise<CachedAnswer> {
    if (signal?.aborted) return Promise.reject(new LookupAbortedError());
    return new Promise((resolve, reject) => {
      const group = `${query.genome}\u0000${query.distance}\u0000${query.mask}`;
      let list = this.pending.get(group);
      if (!list) this.pending.set(group, (list = []));
      list.push({ query, signal, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.size) {
        const [group, list] = this.pending.entries().next().value!;
        const take = list.splice(0, this.maxBatch);
        if (!list.length) this.pending.delete(group);
        const live = take.filter((p) => {
          if (!p.signal?.aborted) return true;
          p.reject(new LookupAbortedError());
          return false;
        });
        if (!live.length) continue;
        this.rounds++;
        try {
          const answers = await this.round(live.map((p) => p.query));
          live.forEach((p, i) => p.resolve(answers[i]));
        } catch (error) {
          for (const p of live) p.reject(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
