// The `elastica/tracing` entry point: OpenTelemetry spans for cluster calls. @opentelemetry/api is an
// optional peer dependency that only this entry point imports.
export { ElasticaTracingModule, ElasticaTracingService } from './tracing/elastica-tracing.module.js';
export {
  ElasticaTracing,
  type ElasticaTracingOptions,
  type ElasticaTracingSources,
} from './tracing/elastica-tracing.js';
