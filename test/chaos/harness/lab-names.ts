import { createHash } from 'node:crypto';

/**
 * Names and addresses of one suite's lab. Each suite file has its own id, so suites never collide;
 * the checkout's path is hashed in, so two checkouts on one machine (a developer's worktree and CI's
 * clone) never collide either. Names are deterministic so a later run can find and remove what a
 * crashed run left behind. Addresses come from 198.18.0.0/15, the range set aside for network tests
 * (RFC 2544), so they never clash with a real network of the machine.
 */
export interface LabNames {
  prefix: string;
  bridge: string;
  subnet: string;
  hostAddress: string;
  namespace(i: number): string;
  vethHost(i: number): string;
  vethPeer(i: number): string;
  address(i: number): string;
}

export const MAX_SUITES = 16;
export const MAX_NODES = 32;

export function labNames(suiteId: number, checkout: string = process.cwd()): LabNames {
  if (!Number.isInteger(suiteId) || suiteId < 0 || suiteId >= MAX_SUITES)
    throw new Error(`suite id must be 0..${MAX_SUITES - 1}, got ${suiteId}`);
  const slot = createHash('sha1').update(checkout).digest()[0] % 32; // 32 checkouts × 16 suites = 512 /24s
  const third = (slot % 16) * 16 + suiteId;
  const second = 18 + Math.floor(slot / 16);
  const base = `198.${second}.${third}`;
  const prefix = `ec${slot.toString(16).padStart(2, '0')}${suiteId.toString(16)}`; // 5 chars: names stay ≤ 15
  const check = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= MAX_NODES)
      throw new Error(`node index must be 0..${MAX_NODES - 1}, got ${i}`);
    return i;
  };
  return {
    prefix,
    bridge: `${prefix}br`,
    subnet: `${base}.0/24`,
    hostAddress: `${base}.1`,
    namespace: (i) => `${prefix}n${check(i)}`,
    vethHost: (i) => `${prefix}h${check(i)}`,
    vethPeer: (i) => `${prefix}p${check(i)}`,
    address: (i) => `${base}.${10 + check(i)}`,
  };
}
