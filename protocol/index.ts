// The wire contract in one place: TypeBox schemas for every request and reply of the JSON API
// (/api/v1), the device API and the hawkBit DDI documents. Server routes declare them (fastify
// validates requests and serializes replies with them, @fastify/swagger turns them into /docs)
// and the agent validates the check-in answer against the same schema. One module per
// resource; a new route puts its schemas in the module of its resource, or a new one here.
export * from './errors.js';
export * from './common.js';
export * from './trust.js';
export * from './users.js';
export * from './products.js';
export * from './customers.js';
export * from './devices.js';
export * from './releases.js';
export * from './plans.js';
export * from './faults.js';
export * from './support-sessions.js';
export * from './checkin.js';
export * from './ddi.js';
export * from './ops.js';
