import { describe, expect, it } from '@jest/globals';
import { formatJoin, parseJoin, planCohort, ringOfView, viewCohort, type PlannerMember } from './cohort-view.js';
import { firstNodeTokens } from './token-allocation.js';

const settled = (id: string): PlannerMember => ({
  id,
  status: 'up',
  generation: 1,
  tokens: firstNodeTokens(id, 16),
  join: 's',
});
const joiner = (id: string, join = 'p'): PlannerMember => ({ id, status: 'up', generation: 1, tokens: [], join });

const options = { self: 'observer', selfJoining: false, vnodes: 16 };

describe('viewCohort', () => {
  it('join marks round-trip; a bare p or s is a mark without hashes', () => {
    expect(parseJoin(formatJoin('p', 123456789, 4000000000))).toEqual({ phase: 'p', base: 123456789, key: 4000000000 });
    expect(parseJoin('p')).toEqual({ phase: 'p' });
    expect(parseJoin('s')).toEqual({ phase: 's' });
    expect(parseJoin('x.1.2')).toBeUndefined();
    expect(parseJoin(undefined)).toBeUndefined();
  });

  it('nobody joining: no view; joiners are planned whatever order the view lists them in', () => {
    const base = [settled('a'), settled('b')];
    expect(viewCohort(base, options)).toBeUndefined();
    const members = [...base, joiner('z'), joiner('c'), joiner('m')];
    const view = viewCohort(members, options)!;
    expect(view.cohort).toEqual(['c', 'm', 'z']);
    expect(viewCohort([...members].reverse(), options)!.key).toBe(view.key);
  });

  it('a joiner that is down, has left, or whose earlier run is being handed back is not planned for; a leaving one keeps its part', () => {
    const members = [
      settled('a'),
      { ...joiner('d'), status: 'down' },
      { ...joiner('gone'), status: 'left' },
      { ...joiner('l'), status: 'leaving' },
      joiner('r'),
      joiner('j'),
    ];
    const view = viewCohort(members, { ...options, awaitingHandback: (m) => m.id === 'r' })!;
    expect(view.cohort).toEqual(['j', 'l']);
  });

  it('settling does not change the plan: settled members with the cohort’s mark are planned as before', () => {
    const base = [settled('a'), settled('b'), settled('c')];
    const joiners = ['j1', 'j2', 'j3'].map((id) => joiner(id));
    const before = viewCohort([...base, ...joiners], options)!;
    const plan = planCohort(before, 16);
    const mark = (phase: 'p' | 's') => formatJoin(phase, before.baseHash, before.keyHash);
    // j2 settles first (not the smallest id): its tokens are its part; j1 and j3 are still joining.
    const j2: PlannerMember = { ...joiner('j2', mark('s')), tokens: plan.get('j2')! };
    const during = [...base, joiner('j1', mark('p')), j2, joiner('j3', mark('p'))];
    const view = viewCohort(during, options)!;
    expect(view.key).toBe(before.key);
    expect(ringOfView(during, planCohort(view, 16)).checksum).toBe(ringOfView([...base, ...joiners], plan).checksum);
    // All settled: the ring is their tokens, with no plan at all.
    const after = [...base, ...['j1', 'j2', 'j3'].map((id) => ({ ...joiner(id, mark('s')), tokens: plan.get(id)! }))];
    expect(viewCohort(after, options)).toBeUndefined();
    expect(ringOfView(after, new Map()).checksum).toBe(ringOfView([...base, ...joiners], plan).checksum);
  });

  it('a new joiner while a cohort settles: the settled ones become base, the rest plan again around them', () => {
    const base = [settled('a'), settled('b'), settled('c')];
    const before = viewCohort([...base, joiner('j1'), joiner('j2')], options)!;
    const plan = planCohort(before, 16);
    const j1: PlannerMember = {
      ...joiner('j1', formatJoin('s', before.baseHash, before.keyHash)),
      tokens: plan.get('j1')!,
    };
    const view = viewCohort([...base, j1, joiner('j2'), joiner('j0')], options)!;
    expect(view.cohort).toEqual(['j0', 'j2']);
    expect(view.base.map((m) => m.id)).toEqual(['a', 'b', 'c', 'j1']);
    expect(planCohort(view, 16).has('j1')).toBe(false);
  });
});
