// PLACEHOLDER until the transport branch lands (same file, same names).
export const ELASTICA_TRANSPORT = Symbol('elastica:transport');
