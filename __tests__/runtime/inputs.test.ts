import { Inputs, inputEnvName, envInputSource } from '../../src/runtime/inputs.js'
import { InputError } from '../../src/runtime/errors.js'

const from = (values: Record<string, string>) => new Inputs(name => values[name] ?? '')

function problemsOf(inputs: Inputs): string[] {
  try {
    inputs.done()
    return []
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    return (err as InputError).problems.map(p => `${p.input}: ${p.message}`)
  }
}

describe('input names', () => {
  it.each([
    ['timeout', 'INPUT_TIMEOUT'],
    ['smoke-url', 'INPUT_SMOKE-URL'],
    ['my input', 'INPUT_MY_INPUT']
  ])('%s is read from %s, as the runner mangles it', (name, variable) => {
    expect(inputEnvName(name)).toBe(variable)
    expect(envInputSource({ [variable]: '  v  ' })(name)).toBe('v')
  })
})

describe('booleans', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['false', false],
    ['', false]
  ])('%j is %s', (text, value) => {
    const inputs = from({ rollback: text })
    expect(inputs.boolean('rollback')).toBe(value)
    expect(problemsOf(inputs)).toEqual([])
  })
  it('rejects yes with the accepted forms', () => {
    const inputs = from({ rollback: 'yes' })
    inputs.boolean('rollback')
    expect(problemsOf(inputs)).toEqual(['rollback: "yes" is not a boolean; use true or false'])
  })
})

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['120', 120_000],
    ['1.5s', 1500]
  ])('%s is %d ms', (text, ms) => {
    const inputs = from({ timeout: text })
    expect(inputs.duration('timeout')).toBe(ms)
    expect(problemsOf(inputs)).toEqual([])
  })
  it.each(['soon', '5 minutes', '-1s', '1d', 'm5'])('rejects %j naming the input and the forms', text => {
    const inputs = from({ timeout: text })
    expect(inputs.duration('timeout')).toBeUndefined()
    expect(problemsOf(inputs)).toEqual([
      `timeout: ${JSON.stringify(text)} is not a duration; use a form like 90s, 5m, 1h30m or 500ms`
    ])
  })
  it('enforces a minimum', () => {
    const inputs = from({ timeout: '10ms' })
    inputs.duration('timeout', { min: 1000 })
    expect(problemsOf(inputs)[0]).toMatch(/too short/)
  })
})

describe('integers and numbers', () => {
  it('parses within range', () => {
    const inputs = from({ n: '3', pct: '80.5' })
    expect(inputs.integer('n', { min: 1, max: 5 })).toBe(3)
    expect(inputs.number('pct', { min: 0, max: 100 })).toBe(80.5)
    expect(problemsOf(inputs)).toEqual([])
  })
  it('rejects non-integers and out-of-range values', () => {
    const inputs = from({ a: '3.5', b: '9', c: 'x' })
    inputs.integer('a')
    inputs.integer('b', { max: 5 })
    inputs.number('c')
    expect(problemsOf(inputs)).toEqual([
      'a: "3.5" is not an integer',
      'b: 9 is out of range; use at most 5',
      'c: "x" is not a number'
    ])
  })
})

describe('lists and maps', () => {
  it('splits lines, skips blanks and comments, optionally commas', () => {
    const inputs = from({
      files: 'a.yaml\n\n# note\n  b.yaml  \n',
      platforms: 'linux/amd64, linux/arm64\nlinux/s390x'
    })
    expect(inputs.list('files')).toEqual(['a.yaml', 'b.yaml'])
    expect(inputs.list('platforms', { commas: true })).toEqual(['linux/amd64', 'linux/arm64', 'linux/s390x'])
  })
  it('parses key=value with = inside values, rejects malformed and duplicate keys', () => {
    const good = from({ args: 'A=1\nB=x=y\n' })
    expect([...good.map('args')]).toEqual([
      ['A', '1'],
      ['B', 'x=y']
    ])
    const bad = from({ args: 'A=1\nnovalue\n=x\nA=2' })
    bad.map('args')
    expect(problemsOf(bad)).toEqual([
      'args: "novalue" is not a key=value pair',
      'args: "=x" is not a key=value pair',
      'args: key "A" is given twice'
    ])
  })
})

describe('enums and globs', () => {
  it('accepts a listed value and names the choices otherwise', () => {
    const inputs = from({ builder: 'kaniko', preset: 'npm' })
    expect(inputs.enum('preset', ['cargo', 'npm', 'custom'])).toBe('npm')
    expect(inputs.enum('builder', ['auto', 'buildx', 'buildah'])).toBeUndefined()
    expect(problemsOf(inputs)).toEqual(['builder: "kaniko" is not one of auto, buildx, buildah'])
  })
  it('checks glob syntax', () => {
    const inputs = from({ files: 'coverage/**/*.info\n!**/node_modules/**\nbad[abc\n{a,b' })
    expect(inputs.globs('files')).toHaveLength(4)
    expect(problemsOf(inputs)).toEqual([
      'files: "bad[abc" is not a valid glob: a [ is not closed',
      'files: "{a,b" is not a valid glob: a { is not closed'
    ])
  })
})

describe('required inputs and reporting', () => {
  it('reports every bad input at once, naming each', () => {
    const inputs = from({ timeout: 'soon', rollback: 'maybe' })
    inputs.string('namespace', { required: true })
    inputs.duration('timeout')
    inputs.boolean('rollback')
    const problems = problemsOf(inputs)
    expect(problems).toEqual([
      'namespace: is required and was not given',
      'timeout: "soon" is not a duration; use a form like 90s, 5m, 1h30m or 500ms',
      'rollback: "maybe" is not a boolean; use true or false'
    ])
  })
  it('remembers which inputs were read', () => {
    const inputs = from({})
    inputs.string('a')
    inputs.list('b')
    expect([...inputs.read]).toEqual(['a', 'b'])
  })
})

describe('views for shared parsers', () => {
  it('reads renamed inputs, reports problems under the declared name, and takes given values', () => {
    const inputs = from({ 'build-timeout': 'soon', timeout: '5m' })
    const build = inputs.view({ rename: { timeout: 'build-timeout' } })
    const rollout = inputs.view({ given: { images: 'app=registry/app:pending' } })
    expect(build.duration('timeout')).toBeUndefined()
    expect(rollout.duration('timeout')).toBe(300_000)
    expect(rollout.string('images')).toBe('app=registry/app:pending')
    expect([...inputs.read].sort()).toEqual(['build-timeout', 'timeout'])
    expect(problemsOf(inputs)).toEqual([
      'build-timeout: "soon" is not a duration; use a form like 90s, 5m, 1h30m or 500ms'
    ])
  })
})
