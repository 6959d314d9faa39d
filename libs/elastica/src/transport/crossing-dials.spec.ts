import { describe, expect, it } from '@jest/globals';
import { arbitrate, crossed, RULES, type Meeting, type Verdict } from './crossing-dials.js';

/** Every meeting that can happen: a dialer never holds a dial of its own to the node it reached. */
function meetings(): Meeting[] {
  const all: Meeting[] = [];
  for (const side of ['acceptor', 'dialer'] as const)
    for (const holding of ['dial', 'connection'] as const)
      for (const isCrossed of [false, true])
        for (const smallerId of ['ours', 'theirs'] as const)
          for (const secret of [false, true]) {
            if (side === 'dialer' && holding === 'dial') continue;
            if (holding === 'dial' && isCrossed) continue; // crossing is about established connections
            all.push({ side, holding, crossed: isCrossed, smallerId, secret });
          }
  return all;
}

const matching = (meeting: Meeting) =>
  RULES.filter((r) => (Object.keys(r.when) as (keyof Meeting)[]).every((fact) => r.when[fact] === meeting[fact]));

/** Which side dialled the connection a verdict keeps: the new one is ours when we are its dialer. */
function keptDialledBy(meeting: Meeting, verdict: Verdict): 'ours' | 'theirs' {
  const newIsOurs = meeting.side === 'dialer';
  const keepsNew = verdict === 'replace-old' || verdict === 'accept-new';
  return keepsNew === newIsOurs ? 'ours' : 'theirs';
}

describe('crossing-dial arbiter', () => {
  it('has exactly one rule for every meeting that can happen, and every rule is used', () => {
    const used = new Set<unknown>();
    for (const meeting of meetings()) {
      const rules = matching(meeting);
      expect({ meeting, rules: rules.length }).toEqual({ meeting, rules: 1 });
      expect(arbitrate(meeting)).toBe(rules[0]);
      used.add(rules[0]);
    }
    expect(used.size).toBe(RULES.length);
  });

  it('keeps, on both dials of a tie, the connection dialled by the smaller id', () => {
    for (const meeting of meetings().filter((m) => m.crossed || m.holding === 'dial')) {
      expect({ meeting, kept: keptDialledBy(meeting, arbitrate(meeting).verdict) }).toEqual({
        meeting,
        kept: meeting.smallerId,
      });
    }
  });

  it('never keeps a new connection that was not crossed: the established one carries on', () => {
    for (const meeting of meetings().filter((m) => m.holding === 'connection' && !m.crossed))
      expect(['standby', 'alias']).toContain(arbitrate(meeting).verdict);
  });

  it('throws on a meeting that cannot happen', () => {
    expect(() =>
      arbitrate({ side: 'dialer', holding: 'dial', crossed: false, smallerId: 'ours', secret: false }),
    ).toThrow(/no crossing-dial rule/);
  });

  it('calls connections crossed only when one was dialled by each side and neither answered as a standby', () => {
    const outbound = { direction: 'outbound', held: false } as const;
    const inbound = { direction: 'inbound', held: false } as const;
    expect(crossed(outbound, inbound)).toBe(true);
    expect(crossed(inbound, outbound)).toBe(true);
    expect(crossed(outbound, outbound)).toBe(false);
    expect(crossed(inbound, inbound)).toBe(false);
    expect(crossed({ ...outbound, held: true }, inbound)).toBe(false);
    expect(crossed(outbound, { ...inbound, held: true })).toBe(false);
  });
});
