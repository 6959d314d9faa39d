import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ElasticaHealthIndicator } from 'elastica/terminus';

/** Orchestrator probes (terminus): 200 when the check holds, 503 with the reason until then. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly elastica: ElasticaHealthIndicator,
  ) {}

  /** Liveness: this node has joined the cluster and is up. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.elastica.isJoined('cluster')]);
  }

  /** Readiness: tokens published and the ring built with every owner: it can serve any key. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.elastica.isReady('ring')]);
  }

  /** Safe to stop: nobody joining or leaving, and no copies moving (see KvStoreService.round). */
  @Get('stop')
  @HealthCheck()
  stop() {
    return this.health.check([() => this.elastica.isSafeToStop('handoff')]);
  }
}
