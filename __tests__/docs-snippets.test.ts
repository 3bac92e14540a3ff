// Every workflow snippet in README.md and docs/ as a reader copies it: each `uses:` of this suite
// names one owner, and its `with:` keys, required inputs and the outputs read from it
// (`steps.<id>.outputs.<name>`, `needs.<job>.outputs.<name>`) are checked against the action.yml
// (or the reusable workflow's workflow_call) it names. A planted wrong snippet proves it can fail.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { REPO_ROOT } from './harness/runner.js'

const OWNER = 'otlp-deploy-actions/otlp-deploy-actions'

interface Contract {
  file: string
  inputs: Record<string, { required?: boolean; default?: unknown }>
  outputs: Record<string, unknown>
}

/** What a `uses:` of this suite names, or undefined for someone else's action. */
function contractOf(uses: string): Contract | string | undefined {
  const m = /^([\w.-]+\/[\w.-]+)(\/[^@]+)?@.+$/.exec(uses) ?? /^\.(\/[^@]+)?$/.exec(uses)
  if (!m) return undefined
  const local = uses.startsWith('.')
  const repo = local ? OWNER : m[1]!
  const path = (local ? m[1] : m[2]) ?? ''
  if (!local && !uses.includes('otlp-deploy-actions')) return undefined
  if (repo !== OWNER) return `${uses}: the suite's owner is ${OWNER}`
  if (path === '/.github/workflows/deploy.yml') {
    const wf = parse(readFileSync(join(REPO_ROOT, '.github/workflows/deploy.yml'), 'utf8')) as {
      on: { workflow_call: Contract & { secrets?: Record<string, unknown> } }
    }
    const call = wf.on.workflow_call
    return { file: '.github/workflows/deploy.yml', inputs: call.inputs ?? {}, outputs: call.outputs ?? {} }
  }
  const file = `${path.replace(/^\//, '') || '.'}/action.yml`.replace(/^\.\//, '')
  let text: string
  try {
    text = readFileSync(join(REPO_ROOT, file), 'utf8')
  } catch {
    return `${uses}: there is no ${file}`
  }
  const meta = parse(text) as Contract
  return { file, inputs: meta.inputs ?? {}, outputs: meta.outputs ?? {} }
}

let outputs: Set<string> | undefined
function suiteOutputs(): Set<string> {
  if (outputs) return outputs
  outputs = new Set<string>()
  for (const uses of [
    `${OWNER}@v1`,
    `${OWNER}/.github/workflows/deploy.yml@v1`,
    ...['image-build', 'rollout', 'test-coverage'].map(a => `${OWNER}/actions/${a}@v1`)
  ]) {
    const c = contractOf(uses)
    if (c && typeof c !== 'string') for (const k of Object.keys(c.outputs)) outputs.add(k)
  }
  return outputs
}

/** Problems of one snippet (YAML text), each naming the `uses:` it is about. */
export function snippetProblems(yamlText: string): string[] {
  const doc = parse(yamlText) as unknown
  const problems: string[] = []
  // id (step id or job id) -> contract, for the outputs read later in the snippet.
  const byId = new Map<string, { uses: string; contract: Contract }>()
  const visit = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) return node.forEach(n => visit(n))
    if (typeof node !== 'object' || node === null) return
    const o = node as Record<string, unknown>
    if (typeof o.uses === 'string') {
      const contract = contractOf(o.uses)
      if (typeof contract === 'string') problems.push(contract)
      else if (contract) {
        const withKeys = Object.keys((o.with as Record<string, unknown> | undefined) ?? {})
        for (const k of withKeys)
          if (!(k in contract.inputs))
            problems.push(`${o.uses}: with.${k} is not an input of ${contract.file}`)
        for (const [name, spec] of Object.entries(contract.inputs))
          if (spec?.required === true && spec.default === undefined && !withKeys.includes(name))
            problems.push(`${o.uses}: the required input ${name} is missing`)
        const id = typeof o.id === 'string' ? o.id : key
        if (id) byId.set(id, { uses: o.uses, contract })
      }
    }
    for (const [k, v] of Object.entries(o)) visit(v, k)
  }
  visit(doc)
  for (const m of yamlText.matchAll(/\b(?:steps|needs)\.([\w-]+)\.outputs\.([\w-]+)/g)) {
    const target = byId.get(m[1]!)
    if (target && !(m[2]! in target.contract.outputs))
      problems.push(`${target.uses}: ${m[0]} reads an output ${target.contract.file} does not declare`)
    // A step of the surrounding workflow (not in the snippet): the output must be one of the suite's.
    else if (!target && !suiteOutputs().has(m[2]!))
      problems.push(`${m[0]} reads an output that no action or workflow of the suite declares`)
  }
  return problems
}

function snippets(): { where: string; text: string }[] {
  const files = [
    'README.md',
    ...readdirSync(join(REPO_ROOT, 'docs'))
      .filter(f => f.endsWith('.md'))
      .map(f => `docs/${f}`)
  ]
  return files.flatMap(file => {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8')
    return [...text.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)].map(m => ({
      where: `${file}:${text.slice(0, m.index).split('\n').length}`,
      text: m[1]!
    }))
  })
}

describe('workflow snippets in README.md and docs/', () => {
  const all = snippets()

  it('are found (a change to the fence format must not silently skip them)', () => {
    expect(all.length).toBeGreaterThan(15)
  })

  it.each(all.map(s => [s.where, s.text]))(
    '%s: each use of this suite matches its action.yml',
    (_where, text) => {
      expect(snippetProblems(text)).toEqual([])
    }
  )

  it("fails on an output of a step outside the snippet that none of the suite's actions declares", () => {
    const planted = `
- uses: ./actions/rollout
  with:
    images: otlp-client=\${{ steps.build.outputs.image }}@\${{ steps.build.outputs.digest }}
`
    expect(snippetProblems(planted)).toEqual([
      'steps.build.outputs.image reads an output that no action or workflow of the suite declares'
    ])
  })

  it('fails on a planted wrong input, a missing required input, a foreign owner and an unknown output', () => {
    const planted = `
- id: build
  uses: ${OWNER}/actions/image-build@v1
  with:
    image: ghcr.io/acme/app
- uses: ${OWNER}/actions/rollout@v1
  with:
    image-ref: \${{ steps.build.outputs.image }}
- uses: example/otlp-deploy-actions/actions/test-coverage@v1
`
    expect(snippetProblems(planted)).toEqual([
      `${OWNER}/actions/image-build@v1: with.image is not an input of actions/image-build/action.yml`,
      `${OWNER}/actions/image-build@v1: the required input images is missing`,
      `${OWNER}/actions/rollout@v1: with.image-ref is not an input of actions/rollout/action.yml`,
      "example/otlp-deploy-actions/actions/test-coverage@v1: the suite's owner is otlp-deploy-actions/otlp-deploy-actions",
      `${OWNER}/actions/image-build@v1: steps.build.outputs.image reads an output actions/image-build/action.yml does not declare`
    ])
  })
})
