import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, extra?: string): void;
  stop(): void;
}

/**
 * A progress bar on stderr; where stderr is not a terminal (CI, pipes) a line every few seconds instead.
 * @example const p = createProgress('events', file.size); p.update(bytesRead); p.stop()
 */
export function createProgress(label: string, total: number, unit = ''): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total}${unit} | {extra}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { extra: '' });
    return { update: (done, extra = '') => bar.update(done, { extra }), stop: () => bar.stop() };
  }
  let last = 0;
  let lastDone = 0;
  return {
    update(done, extra = '') {
      lastDone = done;
      const now = Date.now();
      if (now - last < 2000) return;
      last = now;
      const pct = total > 0 ? ((done / total) * 100).toFixed(1) : '100';
      process.stderr.write(`${label}: ${pct}% (${done}/${total}${unit}) ${extra}\n`);
    },
    stop() {
      process.stderr.write(`${label}: done (${lastDone}/${total}${unit})\n`);
    },
  };
}

/** A progress bar whose total is learned from the first update (importers know the size only once they read). */
export function createLazyProgress(
  label: string,
  unit = '',
): { update(done: number, total: number): void; stop(): void } {
  let bar: Progress | null = null;
  return {
    update(done, total) {
      bar ??= createProgress(label, total, unit);
      bar.update(done);
    },
    stop() {
      bar?.stop();
    },
  };
}

/** One progress bar per step of a longer job (training: reading, then fitting…), each started when its step first reports. */
export function createStepProgress(): { update(step: string, done: number, total: number): void; stop(): void } {
  let current: { step: string; bar: Progress } | null = null;
  return {
    update(step, done, total) {
      if (current?.step !== step) {
        current?.bar.stop();
        current = { step, bar: createProgress(step, total) };
      }
      current.bar.update(done);
    },
    stop() {
      current?.bar.stop();
      current = null;
    },
  };
}
