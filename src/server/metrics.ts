import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  events: Counter<'result'>;
  commits: Histogram<string>;
  requests: Histogram<'route' | 'status'>;
}

/** A registry per app instance, so tests can create several apps in one process. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kerma_' });
  return {
    registry,
    events: new Counter({
      name: 'kerma_ingest_events_total',
      help: 'Events received, by result (stored, duplicate, rejected)',
      labelNames: ['result'],
      registers: [registry],
    }),
    commits: new Histogram({
      name: 'kerma_ingest_commit_seconds',
      help: 'Duration of one group commit',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    requests: new Histogram({
      name: 'kerma_http_request_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}
