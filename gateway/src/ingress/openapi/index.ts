// @berth/gateway/openapi: berth's API description (what GET /openapi.json serves) and the types
// of its parts, for tests and tools that read the document without running a gateway.
export { openApiDocument, openApiJson } from './document.js';
export * from './types.js';
