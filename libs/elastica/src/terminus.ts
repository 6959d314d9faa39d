// The `elastica/terminus` entry point: health checks for `@nestjs/terminus`, an optional peer
// dependency that only this entry point imports.
export { ElasticaHealthIndicator } from './terminus/elastica-health.indicator.js';
