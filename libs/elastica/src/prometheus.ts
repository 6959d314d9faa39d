// The `elastica/prometheus` entry point: Elastica's metrics in a prom-client registry. prom-client is
// an optional peer dependency that only this entry point imports.
export { ElasticaMetricsModule, ElasticaMetricsService } from './prometheus/elastica-metrics.module.js';
export {
  ElasticaMetrics,
  type ElasticaMetricsOptions,
  type ElasticaMetricSources,
} from './prometheus/elastica-metrics.js';
