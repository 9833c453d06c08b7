/**
 * Progress of a run on stderr: rollouts scored, rate, errors, bad lines. On a terminal, one line
 * redrawn at most every 200 ms (`done()` clears it). Elsewhere (logs, CI) nothing, unless an interval
 * is given: then a plain line at most every `intervalSecs` seconds (0: at every update).
 */
export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private readonly tty: boolean;
  private readonly lines: boolean;
  private readonly everyMs: number;

  constructor(enabled: boolean, intervalSecs?: number) {
    this.tty = enabled && process.stderr.isTTY === true;
    this.lines = enabled && !this.tty && intervalSecs !== undefined;
    this.everyMs = this.tty ? 200 : (intervalSecs ?? 0) * 1000;
  }

  update(scored: number, errors: number, badLines: number, force = false, suffix?: string): void {
    if (!this.tty && !this.lines) return;
    const now = Date.now();
    if (!force && this.last !== 0 && now - this.last < this.everyMs) return;
    this.last = now;
    const secs = Math.max((now - this.start) / 1000, 1e-3);
    const rate = Math.round(scored / secs);
    const text = `scoring: ${scored.toLocaleString('en-US')} rollouts · ${rate.toLocaleString('en-US')}/s · ${errors} grader errors · ${badLines} bad lines${suffix ? ` · ${suffix}` : ''}`;
    process.stderr.write(this.tty ? `\r\x1b[2K${text}` : `${text}\n`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
  }
}
