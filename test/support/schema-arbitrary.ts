// JSON Schema (the subset an OpenAPI 3.1 document of this service uses) as fast-check arbitraries:
// values the schema allows, and values it forbids, for the fuzzer. Lengths count code points and
// patterns are read with the `u` flag, as JSON Schema says.
import fc from 'fast-check'
import { NUL_PATTERN } from '../../src/http/schema'

export type Schema = Record<string, any>

const codePoints = (text: string) => [...text].length

/** Text of any script (emoji, combining marks, right-to-left) beside plain ASCII. */
const textUnit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...'abcXYZ019 -_.@') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('é', 'ß', 'Ω', '用', 'ق', '😀', '👩‍💻', 'e\u0301', '\u202e', '\u200b', '\u00a0'),
  },
)

export class SchemaSampler {
  constructor(private readonly doc: Schema) {}

  /** The schema itself, once its `$ref`s are followed. */
  resolve(schema: Schema): Schema {
    let current = schema
    while (typeof current.$ref === 'string') {
      const path = current.$ref.replace(/^#\//, '').split('/')
      current = path.reduce((node: Schema, key: string) => node[key], this.doc)
    }
    return current
  }

  /** Values `schema` allows. */
  valid(schema: Schema): fc.Arbitrary<unknown> {
    const s = this.resolve(schema)
    if (Array.isArray(s.anyOf)) return fc.oneof(...s.anyOf.map((member: Schema) => this.valid(member)))
    if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum)
    switch (s.type) {
      case 'null':
        return fc.constant(null)
      case 'boolean':
        return fc.boolean()
      case 'integer': {
        const min = Math.max(s.minimum ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER)
        const max = Math.min(s.maximum ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
        return fc.oneof(
          fc.integer({ min, max: Math.min(max, min + 1000) }),
          fc.integer({ min, max }),
          fc.constantFrom(min, max),
        )
      }
      case 'string':
        return this.validString(s)
      case 'object':
        return this.validObject(s)
      case 'array':
        return fc.array(this.valid(s.items ?? {}), { maxLength: 3 })
      default:
        return fc.jsonValue()
    }
  }

  private validString(s: Schema): fc.Arbitrary<string> {
    if (s.format === 'uuid') return fc.uuid()
    if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((date) => date.toISOString())
    const min: number = s.minLength ?? 0
    const max: number = s.maxLength ?? 64
    const pattern = typeof s.pattern === 'string' ? new RegExp(s.pattern, 'u') : undefined
    const fits = (text: string) =>
      codePoints(text) >= min && codePoints(text) <= max && (!pattern || pattern.test(text))
    // A pattern that says more than "no NUL" is followed by fast-check itself; plain text is built
    // from units, with the longest allowed text now and then.
    if (pattern && s.pattern !== NUL_PATTERN) return fc.stringMatching(pattern).filter(fits)
    const short = fc
      .array(textUnit, { minLength: min, maxLength: Math.min(max, min + 24) })
      .map((units) => units.join(''))
    const longest = fc.array(textUnit, { minLength: max, maxLength: max }).map((units) => units.join(''))
    const text = max > 2000 ? short : fc.oneof({ weight: 9, arbitrary: short }, { weight: 1, arbitrary: longest })
    return text.map((t) => t.replaceAll('\u0000', '')).filter(fits)
  }

  private validObject(s: Schema): fc.Arbitrary<Record<string, unknown>> {
    const properties: Record<string, Schema> = s.properties ?? {}
    const required: string[] = s.required ?? []
    const record = fc.record(
      Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, this.valid(schema)])),
      { requiredKeys: required },
    ) as fc.Arbitrary<Record<string, unknown>>
    const dependent: Record<string, string[]> = s.dependentRequired ?? {}
    return record.filter((value) =>
      Object.entries(dependent).every(([key, needs]) => !(key in value) || needs.every((need) => need in value)),
    )
  }

  /**
   * A value `schema` forbids, made from `value` (which it allows) by one change: a wrong type, a
   * length past a bound, a pattern broken, a number out of range, a required field left out.
   */
  invalid(schema: Schema): fc.Arbitrary<unknown> {
    const s = this.resolve(schema)
    const wrongType = fc.constantFrom<unknown>(12345, 1.5, true, [], {}, 'not-a-number-or-object')
    if (Array.isArray(s.anyOf)) return fc.constantFrom<unknown>(12345, [], {})
    switch (s.type) {
      case 'string': {
        const options: fc.Arbitrary<unknown>[] = [wrongType.filter((v) => typeof v !== 'string')]
        if (typeof s.maxLength === 'number')
          options.push(fc.constantFrom('x'.repeat(s.maxLength + 1), '😀'.repeat(s.maxLength + 1)))
        if (typeof s.minLength === 'number' && s.minLength > 0) options.push(fc.constant('x'.repeat(s.minLength - 1)))
        if (typeof s.pattern === 'string') {
          const pattern = new RegExp(s.pattern, 'u')
          const broken = [
            'nul\u0000inside',
            '0@com',
            'a b@c.de',
            'a\u200b@b.co',
            '@x.y',
            '1.5',
            '1e3',
            '0x10',
            '',
            ' 1',
          ]
          const misses = broken.filter((candidate) => !pattern.test(candidate))
          if (misses.length > 0) options.push(fc.constantFrom(...misses))
        }
        return fc.oneof(...options)
      }
      case 'integer':
        return fc.oneof(
          wrongType.filter((v) => typeof v !== 'number' || !Number.isInteger(v)),
          fc.constantFrom(
            ...[
              s.maximum !== undefined ? s.maximum + 1 : undefined,
              s.minimum !== undefined ? s.minimum - 1 : undefined,
              1e30,
              -1e30,
            ].filter((v): v is number => v !== undefined),
          ),
        )
      case 'boolean':
        return fc.constantFrom<unknown>('true', 1, 0, 'yes', [])
      case 'object': {
        const properties: Record<string, Schema> = s.properties ?? {}
        const names = Object.keys(properties)
        const required: string[] = s.required ?? []
        const whole = fc.constantFrom<unknown>([], 'a string', 42, null)
        const broken = this.validObject(s).chain((value) => {
          const choices: fc.Arbitrary<unknown>[] = [whole]
          if (required.length > 0)
            choices.push(
              fc.constantFrom(...required).map((name) => {
                const { [name]: _, ...rest } = value
                return rest
              }),
            )
          if (names.length > 0)
            choices.push(
              fc
                .constantFrom(...names)
                .chain((name) => this.invalid(properties[name]!).map((bad) => ({ ...value, [name]: bad }))),
            )
          return fc.oneof(...choices)
        })
        return broken
      }
      default:
        return wrongType
    }
  }
}
