import type { Connection } from './connection.js';

/**
 * The arbiter between two connections with the same node: which one both ends keep. Pure, and a
 * table, so that both ends can be seen to reach the same answer from the facts each of them has.
 * See docs/ARCHITECTURE.md, "The handshake" (Simultaneous dial; The same run dialled again; Crossing dials).
 */

/** What this node knows when a new connection with a node it already has one with gets far enough. */
export interface Meeting {
  /** This node's end of the new connection. */
  side: 'acceptor' | 'dialer';
  /**
   * What this node already has with that node: its own dial, still in handshake (seen on the dialer's
   * HELLO), or an established connection with the very same run (seen once the other end is proven).
   */
  holding: 'dial' | 'connection';
  /** The two connections were dialled one by each side and both answered as fresh (see `crossed`). */
  crossed: boolean;
  /** Whose node id is the smaller. */
  smallerId: 'ours' | 'theirs';
  /** The cluster has a secret: the dialer then establishes before the acceptor does. */
  secret: boolean;
}

export type Verdict =
  /** The new connection is refused as a duplicate, before anything rides it. */
  | 'refuse-new'
  /** The new connection goes ahead; our dial in handshake is dropped once it commits. */
  | 'accept-new'
  /** The established connection gives way (refused, after what was sent on it); the new one replaces it. */
  | 'replace-old'
  /** The established connection stays; the new one is only read (never written to) until the peer gives it up. */
  | 'read-new'
  /** The established connection stays; the new one is held unused until the dialer shows which one it keeps. */
  | 'standby'
  /** The established connection stays; the new one is refused and the address it was dialled at becomes an alias. */
  | 'alias';

export interface Rule {
  /** The facts the rule needs; a fact it leaves out does not matter to it. */
  readonly when: Readonly<Partial<Meeting>>;
  readonly verdict: Verdict;
  readonly why: string;
}

/** First match wins; every meeting that can happen matches exactly one rule (crossing-dials.spec.ts). */
export const RULES: readonly Rule[] = [
  // Both dials still in handshake, on the same entry: the acceptor decides before it answers.
  {
    when: { side: 'acceptor', holding: 'dial', smallerId: 'ours' },
    verdict: 'refuse-new',
    why: 'the connection dialled by the smaller id survives, and ours is that one',
  },
  {
    when: { side: 'acceptor', holding: 'dial', smallerId: 'theirs' },
    verdict: 'accept-new',
    why: 'the connection dialled by the smaller id survives: theirs; ours is dropped when theirs commits',
  },
  // Crossed: each side dialled the other under a name the other had not learned.
  {
    when: { side: 'acceptor', holding: 'connection', crossed: true, smallerId: 'theirs' },
    verdict: 'replace-old',
    why: 'both ends keep the connection the smaller id dialled: here the new one; they keep it too',
  },
  {
    when: { side: 'acceptor', holding: 'connection', crossed: true, smallerId: 'ours' },
    verdict: 'read-new',
    why: 'both ends keep the one the smaller id dialled: ours; they may send on theirs until they see the crossing',
  },
  {
    when: { side: 'dialer', holding: 'connection', crossed: true, smallerId: 'ours' },
    verdict: 'replace-old',
    why: 'both ends keep the one the smaller id dialled: the new one, ours; what waited on either entry rides it',
  },
  {
    when: { side: 'dialer', holding: 'connection', crossed: true, smallerId: 'theirs', secret: false },
    verdict: 'read-new',
    why: 'they keep their dial; without a secret they established ours before answering and may be sending on it',
  },
  {
    when: { side: 'dialer', holding: 'connection', crossed: true, smallerId: 'theirs', secret: true },
    verdict: 'refuse-new',
    why: 'they keep their dial; with a secret they have not committed ours yet, so refusing it loses nothing',
  },
  // Not crossed: the dialer reached a run it has a connection with (under another name), or lost that one.
  {
    when: { side: 'acceptor', holding: 'connection', crossed: false },
    verdict: 'standby',
    why: 'only the dialer knows whether it dialled another name of ours and still has the old connection, or lost it',
  },
  {
    when: { side: 'dialer', holding: 'connection', crossed: false },
    verdict: 'alias',
    why: 'the acceptor held the new connection unused: the old one carries on; the address is another name of the node',
  },
];

/** The rule for `meeting`; throws on a meeting that cannot happen (a dialer holding a dial of its own). */
export function arbitrate(meeting: Meeting): Rule {
  const rule = RULES.find((r) =>
    (Object.keys(r.when) as (keyof Meeting)[]).every((fact) => r.when[fact] === meeting[fact]),
  );
  if (!rule) throw new Error(`no crossing-dial rule for ${JSON.stringify(meeting)}`);
  return rule;
}

/**
 * Whether two connections between the same two runs crossed: one dialled by each side, and each
 * answered as fresh (its acceptor had no established connection with the other run). Both ends see
 * the same two facts, which is what lets them agree.
 */
export function crossed(
  established: Pick<Connection, 'direction' | 'held'>,
  fresh: Pick<Connection, 'direction' | 'held'>,
): boolean {
  return established.direction !== fresh.direction && !established.held && !fresh.held;
}
