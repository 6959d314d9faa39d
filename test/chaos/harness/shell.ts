import { spawnSync } from 'node:child_process';

/** PATH with the sbin folders, where `ip` and `nft` live, which a non-login shell may lack. */
export const SBIN_PATH = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`;

/** Runs a command to completion; throws with its stderr when it fails (unless `allowFailure`). */
export function sh(command: string, args: string[], opts: { input?: string; allowFailure?: boolean } = {}): string {
  const result = spawnSync(command, args, {
    input: opts.input,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, PATH: SBIN_PATH },
  });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0 && !opts.allowFailure) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}
