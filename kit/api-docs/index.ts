/**
 * A service's API documents, OpenAPI 3.1 and AsyncAPI 3.0, written from its routes and events and
 * served with Swagger UI at /docs.
 */
export { docs, type ServiceDocs, type DocVocabulary } from './docs.ts'
export { described, docHeader } from './openapi.ts'
