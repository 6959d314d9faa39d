import { describe, expect, it } from '@jest/globals';
import { renderDashboardPage } from './dashboard-page.js';
import { EventLog } from './event-log.js';
import { PhiHistory } from './phi-history.js';

describe('EventLog', () => {
  it('keeps the newest events up to its capacity, numbered so a poller asks only for new ones', () => {
    const log = new EventLog(3);
    for (let i = 1; i <= 5; i++) log.add(i * 10, 'up', `n${i}`);
    expect(log.since().map((e) => e.nodeId)).toEqual(['n3', 'n4', 'n5']);
    expect(log.since(4).map((e) => e.seq)).toEqual([5]);
    expect(log.since(0, 1).map((e) => e.nodeId)).toEqual(['n5']);
  });
});

describe('PhiHistory', () => {
  it('keeps a bounded series per member and forgets members that are gone', () => {
    const history = new PhiHistory(2);
    history.record(1, [
      { id: 'a', phi: 0.1, status: 'up' },
      { id: 'b', phi: 0.2, status: 'up' },
    ]);
    history.record(2, [
      { id: 'a', phi: 0.3, status: 'up' },
      { id: 'b', phi: 9, status: 'down' },
    ]);
    history.record(3, [{ id: 'a', phi: 0.4, status: 'up' }]);
    expect(history.snapshot()).toEqual({
      a: [
        [2, 0.3, 'up'],
        [3, 0.4, 'up'],
      ],
    });
  });
});

describe('the dashboard page', () => {
  it('is one self-contained document that polls the live endpoint', () => {
    const html = renderDashboardPage();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('/cluster/live');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)/); // nothing fetched from elsewhere
  });
});
