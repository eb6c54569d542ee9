// The slice of OpenAPI 3.1 that berth's API description uses, typed so the document's parts are
// checked where they are written (a misspelt `requestBody` or a response without a description
// fails the build). Schemas are JSON Schema 2020-12, OpenAPI 3.1's dialect, kept as plain objects.
// Not a general OpenAPI model: what berth does not use is absent. The tests validate the whole
// document with a real OpenAPI validator (tests/unit/openapi-document.test.ts).

/** A JSON Schema (2020-12) object. */
export type Schema = { [keyword: string]: unknown };

export interface Ref {
  $ref: string;
}

export interface MediaType {
  schema: Schema | Ref;
  example?: unknown;
}

export interface Header {
  description: string;
  required?: boolean;
  schema: Schema | Ref;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  description: string;
  required?: boolean;
  schema: Schema | Ref;
}

export interface RequestBody {
  description: string;
  required: boolean;
  content: Record<string, MediaType>;
}

export interface Response {
  description: string;
  headers?: Record<string, Header | Ref>;
  content?: Record<string, MediaType>;
}

/** Responses by status code ('200', '204', …) or 'default'. */
export type Responses = Record<string, Response | Ref>;

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Omitted: the document's default (bearer). `[]`: no credential needed. */
  security?: Array<Record<string, string[]>>;
  parameters?: Array<Parameter | Ref>;
  requestBody?: RequestBody;
  responses: Responses;
}

export type Method = 'get' | 'post' | 'delete';

export type PathItem = Partial<Record<Method, Operation>> & { parameters?: Array<Parameter | Ref> };

export interface OpenApiDocument {
  openapi: '3.1.1';
  info: { title: string; version: string; summary?: string; description: string; license?: { name: string; identifier: string } };
  jsonSchemaDialect: string;
  tags: Array<{ name: string; description: string }>;
  security: Array<Record<string, string[]>>;
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, Response>;
    parameters: Record<string, Parameter>;
    headers: Record<string, Header>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; bearerFormat?: string; description: string }>;
  };
}

/** A reference to a component: `ref('schemas', 'SessionView')`. */
export function ref(kind: keyof OpenApiDocument['components'], name: string): Ref {
  return { $ref: `#/components/${kind}/${name}` };
}
