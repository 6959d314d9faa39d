import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ElasticaOptions } from '../options/elastica-options.js';

export const {
  ConfigurableModuleClass: ElasticaConfigurableModule,
  MODULE_OPTIONS_TOKEN: ELASTICA_RAW_OPTIONS,
  OPTIONS_TYPE: ELASTICA_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ELASTICA_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ElasticaOptions>({ moduleName: 'Elastica' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
