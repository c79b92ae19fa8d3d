// The wire schemas live in protocol/ (one module per resource); this module re-exports the
// shared ones for code that imports them from here. Routes declare their error replies with
// protocol's `errors(...)`, naming only the statuses they can raise.
export { ErrorReply, type ErrorReplyType, IdParams, Identifier, Timestamp, Nullable } from '../../protocol/index.js';
