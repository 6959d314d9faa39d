/** The validated options with every default applied (`ResolvedElasticaOptions`). */
export const ELASTICA_OPTIONS = Symbol('elastica:options');
