import type { CliIO } from './io.js';

export interface ProgressOptions {
  /** What is running, shown first: `predict`, `score`. */
  label: string;
  /** What is counted: `nt`, `variants`. */
  unit: string;
  /** The amount of work when known; without it the bar shows a count and a rate. */
  total?: number;
  /** `--quiet`: no bar and no summary. */
  quiet?: boolean;
  /** Least time between redraws (default 100 ms). */
  intervalMs?: number;
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
}

/**
 * A one-line progress bar on stderr for long runs. It draws only when stderr is a terminal and
 * the run is not `--quiet`, so logs, pipes and CI output stay clean; otherwise every method is a
 * no-op. Redraws are throttled, so calling `advance` per chunk costs nothing.
 */
export interface Progress {
  /** Whether anything is drawn. */
  readonly active: boolean;
  /** Counts `amount` more units done. */
  advance(amount: number): void;
  /** Sets or raises the total once it is known. */
  setTotal(total: number): void;
  /** Changes the text before the bar (e.g. `evaluate 12/120 genes`); shown at the next redraw. */
  setLabel(label: string): void;
  /** Writes a line above the bar (warnings during the run), then redraws the bar. */
  log(line: string): void;
  /**
   * Clears the bar and leaves a one-line summary (amount, time, rate) where the bar was; pass
   * `summary: false` when the run failed. Later calls do nothing.
   */
  finish(options?: { summary?: boolean }): void;
}

/** A progress bar for `io`: drawn only when `io.stderrIsTTY` and not `quiet`. */
export function createProgress(io: CliIO, options: ProgressOptions): Progress {
  const active = io.stderrIsTTY && !options.quiet;
  const now = options.now ?? (() => performance.now());
  const interval = options.intervalMs ?? 100;
  const started = now();
  let total = options.total;
  let label = options.label;
  let done = 0;
  let drawnAt = Number.NEGATIVE_INFINITY;
  let shown = false;
  let finished = false;

  const width = () => {
    const columns = (io.stderr as { columns?: number }).columns;
    return typeof columns === 'number' && columns > 20 ? columns : 80;
  };
  const clear = () => {
    if (shown) io.stderr.write('\r\x1b[2K');
    shown = false;
  };
  const draw = (force = false) => {
    if (!active || finished) return;
    const t = now();
    if (!force && t - drawnAt < interval) return;
    drawnAt = t;
    const line = renderProgressLine({ label, unit: options.unit, done, total, seconds: (t - started) / 1000, width: width() });
    io.stderr.write(`\r\x1b[2K${line}`);
    shown = true;
  };

  return {
    active,
    advance(amount) {
      done += amount;
      draw();
    },
    setTotal(value) {
      total = value;
      draw(true);
    },
    setLabel(value) {
      label = value;
    },
    log(line) {
      if (!active) {
        io.stderr.write(`${line}\n`);
        return;
      }
      clear();
      io.stderr.write(`${line}\n`);
      draw(true);
    },
    finish({ summary = true } = {}) {
      if (finished) return;
      if (active) {
        clear();
        if (!summary) {
          finished = true;
          return;
        }
        const seconds = (now() - started) / 1000;
        io.stderr.write(
          `${options.label}: ${formatCount(done)} ${options.unit} in ${formatDuration(seconds)} (${formatCount(rate(done, seconds))} ${options.unit}/s)\n`,
        );
      }
      finished = true;
    },
  };
}

function rate(done: number, seconds: number): number {
  return seconds > 0 ? Math.round(done / seconds) : 0;
}

/** The bar's text for a state: `label [####......]  42%  46,200/110,000 nt  9,800 nt/s  ETA 7s`. */
export function renderProgressLine(state: { label: string; unit: string; done: number; total?: number; seconds: number; width: number }): string {
  const { label, unit, done, total, seconds } = state;
  const speed = `${formatCount(rate(done, seconds))} ${unit}/s`;
  if (!total) return `${label}  ${formatCount(done)} ${unit}  ${speed}`.slice(0, state.width - 1);
  const fraction = Math.min(1, done / total);
  const eta = done > 0 && seconds > 0 ? `ETA ${formatDuration(((total - done) * seconds) / done)}` : 'ETA -';
  const tail = `${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatCount(done)}/${formatCount(total)} ${unit}  ${speed}  ${eta}`;
  const barWidth = Math.max(10, Math.min(40, state.width - label.length - tail.length - 6));
  const filled = Math.round(fraction * barWidth);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${tail}`.slice(0, state.width - 1);
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${rest}s`;
}
