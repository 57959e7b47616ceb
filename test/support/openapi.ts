// Walks an OpenAPI document as its consumers do: operations, every schema reachable through `$ref`s,
// and what makes a schema unsound as JSON Schema 2020-12.

export type Schema = Record<string, any>

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const
const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']
const NUMERIC_KEYWORDS = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'multipleOf',
]

const refName = (ref: string) => ref.replace('#/components/schemas/', '')

export interface Found {
  at: string
  schema: Schema
}

export class OpenApiDocument {
  constructor(readonly doc: Schema) {}

  get schemas(): Record<string, Schema> {
    return this.doc.components.schemas
  }

  /** Every operation in the document, keyed `METHOD /path`. */
  operations(): Array<{ key: string; path: string; method: string; op: Schema }> {
    return Object.entries(this.doc.paths as Record<string, Schema>).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({
        key: `${method.toUpperCase()} ${path}`,
        path,
        method,
        op: item[method],
      })),
    )
  }

  /** Every schema reachable from `schema`, following each `$ref` into its component once. */
  reachable(schema: Schema, at: string, seen = new Set<string>()): Found[] {
    const found = [{ at, schema }]
    const visit = (child: unknown, where: string) => {
      if (child && typeof child === 'object' && !Array.isArray(child))
        found.push(...this.reachable(child as Schema, where, seen))
    }
    if (typeof schema.$ref === 'string' && !seen.has(schema.$ref)) {
      seen.add(schema.$ref)
      visit(this.schemas[refName(schema.$ref)], schema.$ref)
    }
    for (const [name, child] of Object.entries(schema.properties ?? {})) visit(child, `${at}/properties/${name}`)
    for (const key of ['items', 'additionalProperties', 'not', 'contains', 'if', 'then', 'else'])
      visit(schema[key], `${at}/${key}`)
    for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
      const children: unknown[] = Array.isArray(schema[key]) ? schema[key] : []
      children.forEach((child, i) => {
        visit(child, `${at}/${key}/${i}`)
      })
    }
    return found
  }

  /** Schema and property names a schema exposes, through every `$ref`. */
  namesIn(schema: Schema, at: string): string[] {
    return this.reachable(schema, at).flatMap(({ schema: s }) => [
      ...(typeof s.$ref === 'string' ? [refName(s.$ref)] : []),
      ...Object.keys(s.properties ?? {}),
    ])
  }

  responseSchemas(): Found[] {
    return this.operations().flatMap(({ key, op }) =>
      Object.entries(op.responses as Record<string, Schema>).flatMap(([code, response]) =>
        Object.values((response.content ?? {}) as Record<string, Schema>).map((media) => ({
          at: `${key} ${code}`,
          schema: media.schema as Schema,
        })),
      ),
    )
  }

  requestSchemas(): Found[] {
    return this.operations().flatMap(({ key, op }) => [
      ...Object.values((op.requestBody?.content ?? {}) as Record<string, Schema>).map((media) => ({
        at: `${key} body`,
        schema: media.schema as Schema,
      })),
      ...((op.parameters ?? []) as Schema[]).map((p) => ({
        at: `${key} ${p.in} ${p.name}`,
        schema: p.schema as Schema,
      })),
    ])
  }

  /** Every schema in the document: the components and each operation's own, inline ones. */
  allSchemas(): Found[] {
    const roots = [
      ...Object.entries(this.schemas).map(([name, schema]) => ({ at: `#/components/schemas/${name}`, schema })),
      ...this.responseSchemas(),
      ...this.requestSchemas(),
    ]
    return roots.flatMap(({ at, schema }) => this.reachable(schema, at))
  }

  /** What is wrong with one schema as JSON Schema 2020-12 (the OpenAPI validator does not look inside schemas). */
  schemaProblems(schema: Schema): string[] {
    const problems: string[] = []
    const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type]
    for (const type of types) if (!JSON_TYPES.includes(type)) problems.push(`type ${JSON.stringify(type)}`)
    for (const key of NUMERIC_KEYWORDS)
      if (key in schema && typeof schema[key] !== 'number') problems.push(`${key} ${JSON.stringify(schema[key])}`)
    if ('nullable' in schema) problems.push('nullable (OpenAPI 3.0; 3.1 uses type null)')
    if (
      'required' in schema &&
      !(Array.isArray(schema.required) && schema.required.every((name: unknown) => typeof name === 'string'))
    )
      problems.push('required')
    if (typeof schema.$ref === 'string' && !(refName(schema.$ref) in this.schemas))
      problems.push(`unresolved ${schema.$ref}`)
    return problems
  }

  parameter(key: string, name: string): Schema {
    const found = this.operations()
      .find((o) => o.key === key)
      ?.op.parameters?.find((p: Schema) => p.name === name)
    if (!found) throw new Error(`${key} has no parameter ${name}`)
    return found
  }
}
