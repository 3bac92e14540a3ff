import { existsSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { Inputs } from '../src/runtime/inputs.js'
import { ACTION_FILES, REPO_ROOT, loadActionMetadata } from './harness/runner.js'

describe.each(Object.keys(ACTION_FILES))('%s action.yml', action => {
  const file = ACTION_FILES[action]!
  const meta = loadActionMetadata(action)

  it('runs on node24 from its own committed bundle', () => {
    expect(meta.runs.using).toBe('node24')
    const main = resolve(REPO_ROOT, dirname(file), meta.runs.main ?? '')
    expect(main).toBe(join(REPO_ROOT, 'dist', action, 'index.js'))
    expect(existsSync(main)).toBe(true)
  })

  it('documents every input and output, with branding', () => {
    expect(meta.name).toBeTruthy()
    expect(meta.branding?.icon).toBeTruthy()
    expect(meta.branding?.color).toBeTruthy()
    for (const [name, spec] of Object.entries(meta.inputs)) {
      expect({ name, description: (spec.description ?? '').length > 10 }).toEqual({ name, description: true })
      expect({ name, required: typeof spec.required }).toEqual({ name, required: 'boolean' })
      if (!spec.required) expect({ name, hasDefault: 'default' in spec }).toEqual({ name, hasDefault: true })
    }
    for (const [name, spec] of Object.entries(meta.outputs)) {
      expect({ name, description: (spec.description ?? '').length > 10 }).toEqual({ name, description: true })
    }
  })

  it('reads exactly the inputs it declares', async () => {
    const { parseConfig } = (await import(`../src/actions/${action}/config.js`)) as {
      parseConfig: (inputs: Inputs) => unknown
    }
    const inputs = new Inputs(name => String(meta.inputs[name]?.default ?? ''))
    parseConfig(inputs)
    expect([...inputs.read].sort()).toEqual(Object.keys(meta.inputs).sort())
  })
})
