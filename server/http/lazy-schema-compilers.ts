// Route schemas compiled when a route is first used rather than when it is registered. fastify
// compiles every route's validators (ajv) and response serializers (fast-json-stringify) while
// the app starts: half of a start's CPU (measured over four test servers: 2.9 s of 5.9 s), paid
// by every `sluice server` and every test server for routes most of them never call. The
// compilers are fastify's own, built with the options fastify gives them; only the moment of
// compiling moves. A schema that cannot compile fails its route's first request instead of the
// start (test/contract/openapi.test.ts calls every operation).
import ValidatorSelector from '@fastify/ajv-compiler';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Factories = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type ValidatorFactory = NonNullable<Factories['buildValidator']>;
type SerializerFactory = NonNullable<Factories['buildSerializer']>;
type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };

// The selectors keep a pool of compilers by shared schemas and options, so that the apps of one
// process (the tests build hundreds) share one ajv instead of each compiling ajv's meta-schema
// again: that was most of a start's remaining CPU.
const validatorFactory = ValidatorSelector() as unknown as ValidatorFactory;
const serializerFactory = SerializerSelector() as unknown as SerializerFactory;

const buildValidator: ValidatorFactory = (externalSchemas, options) => {
  const compile = validatorFactory(externalSchemas, options);
  return (routeSchema) => {
    let compiled: Validate | undefined;
    const validator = () => (compiled ??= compile(routeSchema) as Validate);
    const validate: Validate = (data, context) => validator()(data, context);
    // fastify reads these of an ajv function: `schemaEnv` to pass the parent (so a root value can
    // be coerced), `errors` after a failed call.
    Object.defineProperties(validate, {
      schemaEnv: { get: () => validator().schemaEnv },
      errors: { get: () => compiled?.errors },
    });
    return validate as ReturnType<ReturnType<ValidatorFactory>>;
  };
};

const buildSerializer: SerializerFactory = (externalSchemas, options) => {
  const compile = serializerFactory(externalSchemas, options);
  return (routeSchema) => {
    let compiled: ((data: unknown) => string) | undefined;
    return (data: unknown) => (compiled ??= compile(routeSchema) as (data: unknown) => string)(data);
  };
};

/** For `Fastify({ schemaController })`. */
export const lazySchemaController: FastifyServerOptions['schemaController'] = { compilersFactory: { buildValidator, buildSerializer } };
