import { Controller, Get, Header, ParseIntPipe, DefaultValuePipe, Query } from '@nestjs/common';
import { ElasticaCluster, type ClusterSnapshot } from '../cluster/elastica-cluster.js';
import { KvStoreService } from '../kv/kv-store.service.js';
import { ClusterMonitorService } from './cluster-monitor.service.js';
import { renderDashboardPage } from './dashboard-page.js';

const PAGE = renderDashboardPage();

/** `GET /` (the page), `GET /cluster` (the contract's view), and what the page polls. */
@Controller()
export class DashboardController {
  constructor(
    private readonly cluster: ElasticaCluster,
    private readonly monitor: ClusterMonitorService,
    private readonly store: KvStoreService,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  page(): string {
    return PAGE;
  }

  @Get('cluster')
  snapshot(): ClusterSnapshot {
    return this.cluster.snapshot();
  }

  /** Membership events after `since` (a sequence number from an earlier answer). */
  @Get('cluster/events')
  events(@Query('since', new DefaultValuePipe(0), ParseIntPipe) since: number) {
    return { events: this.monitor.events.since(since) };
  }

  /** Everything the page needs in one poll. */
  @Get('cluster/live')
  @Header('Cache-Control', 'no-store')
  live(@Query('since', new DefaultValuePipe(0), ParseIntPipe) since: number) {
    const stats = this.store.node.stats();
    return {
      at: Date.now(),
      cluster: this.cluster.snapshot(),
      events: this.monitor.events.since(since, 50),
      history: this.monitor.history.snapshot(),
      store: {
        keys: stats.keys,
        bytes: stats.bytes,
        writes: stats.writes,
        reads: stats.reads,
        readRepairs: stats.readRepairs,
        pulled: stats.pulled,
        handedOff: stats.handedOff,
      },
    };
  }
}
