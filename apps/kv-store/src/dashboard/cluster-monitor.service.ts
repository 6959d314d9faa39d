import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ElasticaCluster } from '../cluster/elastica-cluster.js';
import { EventLog } from './event-log.js';
import { PhiHistory } from './phi-history.js';

const SAMPLE_EVERY_MS = 1000;

/** What the dashboard shows beyond the present: recent membership events and phi over the last minutes. */
@Injectable()
export class ClusterMonitorService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly events = new EventLog(200);
  readonly history = new PhiHistory(180);
  private readonly subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly cluster: ElasticaCluster) {}

  onApplicationBootstrap(): void {
    this.events.add(Date.now(), 'started', this.cluster.self, 'this node started');
    this.subscriptions.push(
      this.cluster.events$.subscribe((e) => this.events.add(Date.now(), e.type, e.nodeId)),
      this.cluster.ringChanges$.subscribe((what) => this.events.add(Date.now(), 'ring', '', what)),
    );
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private sample(): void {
    this.history.record(Date.now(), this.cluster.snapshot().members);
  }
}
