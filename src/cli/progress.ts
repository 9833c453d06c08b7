/**
 * A one-line progress display on stderr (only on a TTY): rollouts scored, rate, errors, bad lines.
 * Redraws at most every 200 ms; `done()` clears the line.
 */
export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private readonly enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled && process.stderr.isTTY === true;
  }

  update(scored: number, errors: number, badLines: number, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    const secs = Math.max((now - this.start) / 1000, 1e-3);
    const rate = Math.round(scored / secs);
    process.stderr.write(
      `\r\x1b[2Kscoring: ${scored.toLocaleString('en-US')} rollouts · ${rate.toLocaleString('en-US')}/s · ${errors} grader errors · ${badLines} bad lines`,
    );
  }

  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}
