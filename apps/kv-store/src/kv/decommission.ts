import type { HandoffResult } from '../replication/kv-node.js';

/**
 * How a decommission ended:
 * - `left`: every copy was handed over and acknowledged, the departure announced: exit 0.
 * - `aborted`: copies could not all be handed over before the departure, even after retrying: the node
 *   did NOT leave; it stays a member and keeps serving, so nothing only it holds is lost. Ask again
 *   (`POST /admin/leave`) once the cause is fixed (a full or unreachable target, a node still joining).
 * - `left-incomplete`: the departure was announced, but writes that reached this node meanwhile could
 *   not all be handed over: exit 1, so whoever stopped it knows to check (the log names the targets).
 */
export type DecommissionOutcome = { status: 'left' | 'aborted' | 'left-incomplete'; handoff: HandoffResult };

export interface DecommissionSteps {
  /** One full handoff pass (`KvNode.handOffAll`). */
  handOff(): Promise<HandoffResult>;
  /** Announces the departure (`GossipService.leave`); resolves once peers have it. */
  leave(): Promise<void>;
  /** Waits between attempts. */
  pause(ms: number): Promise<void>;
  log(level: 'log' | 'warn' | 'error', message: string): void;
}

export interface DecommissionPolicy {
  /** Handoff passes before giving up, per phase (before and after the departure). */
  attempts: number;
  retryDelayMs: number;
}

export function describeHandoff(r: HandoffResult): string {
  const parts = [`${r.sent} copies of ${r.keys} keys acknowledged`];
  if (r.undelivered > 0)
    parts.push(`${r.undelivered} copies not acknowledged (${r.failedTargets.join(', ')} failed or refused them)`);
  if (r.unplaced > 0) parts.push(`${r.unplaced} keys with no other node to go to`);
  return parts.join('; ');
}

async function handOffWithRetries(
  steps: DecommissionSteps,
  policy: DecommissionPolicy,
  phase: string,
): Promise<HandoffResult> {
  let result = await steps.handOff();
  for (let attempt = 1; attempt < policy.attempts && !result.complete; attempt++) {
    steps.log(
      'warn',
      `decommission (${phase}): handoff pass ${attempt} of ${policy.attempts} incomplete: ${describeHandoff(result)}; retrying`,
    );
    await steps.pause(policy.retryDelayMs);
    result = await steps.handOff();
  }
  return result;
}

/**
 * Hand everything over (retrying), and only if that is complete announce the departure, then hand
 * over again what coordinators sent here until they heard of it. A copy counts as handed over only
 * when its target acknowledged holding it, so a refused copy is never reported sent.
 */
export async function runDecommission(
  steps: DecommissionSteps,
  policy: DecommissionPolicy,
): Promise<DecommissionOutcome> {
  const first = await handOffWithRetries(steps, policy, 'before leaving');
  if (!first.complete) {
    steps.log(
      'error',
      `decommission aborted after ${policy.attempts} handoff passes: ${describeHandoff(first)}. This node did NOT leave the cluster and keeps serving; fix the cause and POST /admin/leave again`,
    );
    return { status: 'aborted', handoff: first };
  }
  steps.log('log', `decommission: ${describeHandoff(first)}; announcing departure`);
  await steps.leave();
  const final = await handOffWithRetries(steps, policy, 'after leaving');
  if (!final.complete) {
    steps.log(
      'error',
      `decommission: left the cluster, but the final handoff pass is incomplete: ${describeHandoff(final)}; exiting with code 1`,
    );
    return { status: 'left-incomplete', handoff: final };
  }
  steps.log('log', `decommission: final pass: ${describeHandoff(final)}; leaving`);
  return { status: 'left', handoff: final };
}
