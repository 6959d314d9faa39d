import type { LoggerService } from '@nestjs/common';

/**
 * Keeps every line Nest's loggers print. Nest's logger is process-wide (the last app created sets
 * it), so tests pick their lines by something only they know (a raw socket's port).
 */
export class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
  debug(message: unknown): void {
    this.lines.push(String(message));
  }
  verbose(): void {}

  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l)).length;
  }
}
