#!/usr/bin/env node
// Supply-chain and injection rules for workflow files that actionlint does not enforce:
//   pin:    every third-party `uses:` (step or reusable-workflow job) names a full 40-hex commit SHA;
//   inject: no `run:` script interpolates `${{ inputs.* }}`, `${{ secrets.* }}`, `${{ github.* }}`,
//           `${{ steps.* }}`, `${{ needs.* }}`, `${{ env.* }}` or `${{ vars.* }}`: values reach the
//           shell through the step's `env:` instead;
//   contract: a first-party action or reusable workflow (owner/repo=DIR, read from this checkout) is
//           given only inputs/secrets it declares, every required one, and only its declared outputs
//           are read (`steps.<id>.outputs.<name>`). actionlint does this for ./ paths only; a ./ path
//           named by `--first-party ./FOLDER=DIR` (a checkout of this suite made by the workflow
//           itself, which actionlint cannot see) is read from DIR too;
//   self-pin: a reusable workflow (on: workflow_call) names none of the first-party actions by
//           owner/repo@ref: the caller pins the workflow's commit, and a ref would run other code.
// Usage: node scripts/check-workflows.mjs [--first-party owner/repo=DIR | ./FOLDER=DIR]... FILE...
// Prints one `file:line: [rule] message` per finding and exits 1 when there is any.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LineCounter, parse, parseDocument, isMap, isSeq, isScalar } from 'yaml'

const SHA = /^[0-9a-f]{40}$/
// Contexts whose values a run: script may never splice in: anything a caller, an event, a secret, an
// earlier step or job, or the environment controls. Only runner/strategy/matrix/job values are fixed
// by the workflow itself.
const INJECTABLE = /\b(inputs|secrets|github|steps|needs|env|vars)\s*(\.|\[)/
const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g

/** Splits `owner/repo[/path]@ref` into its parts (null for ./ and docker:// references). */
function splitUses(uses) {
  if (uses.startsWith('./') || uses.startsWith('docker://')) return null
  const at = uses.lastIndexOf('@')
  const target = at < 0 ? uses : uses.slice(0, at)
  const parts = target.split('/')
  return {
    ownerRepo: parts.slice(0, 2).join('/').toLowerCase(),
    path: parts.slice(2).join('/'),
    ref: at < 0 ? '' : uses.slice(at + 1)
  }
}

/** `./FOLDER/path` where `--first-party ./FOLDER=DIR` names FOLDER: split like an owner/repo path. */
function splitLocal(uses, firstParty) {
  for (const key of firstParty.keys()) {
    if (key.startsWith('./') && uses.startsWith(`${key}/`))
      return { ownerRepo: key, path: uses.slice(key.length + 1), ref: '' }
  }
  return null
}

/**
 * The declared interface of a first-party action or reusable workflow, read from its local checkout:
 * { kind, inputs: Map(name -> required), secrets, outputs } or null when it is not first-party.
 */
export function firstPartyContract(uses, firstParty) {
  if (!(firstParty instanceof Map)) return null
  const u = splitLocal(uses, firstParty) ?? splitUses(uses)
  if (!u || !firstParty.get(u.ownerRepo)) return null
  const root = firstParty.get(u.ownerRepo)
  if (u.path.startsWith('.github/workflows/')) {
    const file = join(root, u.path)
    if (!existsSync(file)) return { missing: file }
    const call = parse(readFileSync(file, 'utf8'))?.on?.workflow_call ?? {}
    const required = spec => Boolean(spec?.required) && !(spec && 'default' in spec)
    return {
      kind: 'reusable workflow',
      permissions: neededPermissions(parse(readFileSync(file, 'utf8'))),
      inputs: new Map(Object.entries(call.inputs ?? {}).map(([k, v]) => [k, required(v)])),
      secrets: new Map(Object.entries(call.secrets ?? {}).map(([k, v]) => [k, Boolean(v?.required)])),
      outputs: new Set(Object.keys(call.outputs ?? {}))
    }
  }
  const file = ['action.yml', 'action.yaml'].map(f => join(root, u.path, f)).find(f => existsSync(f))
  if (!file) return { missing: join(root, u.path, 'action.yml') }
  const meta = parse(readFileSync(file, 'utf8')) ?? {}
  return {
    kind: 'action',
    inputs: new Map(
      Object.entries(meta.inputs ?? {}).map(([k, v]) => [k, Boolean(v?.required) && v?.default === undefined])
    ),
    secrets: null,
    outputs: new Set(Object.keys(meta.outputs ?? {}))
  }
}

const LEVELS = { none: 0, read: 1, write: 2 }
const SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses'
]

/** A `permissions:` value as scope -> level (`read-all`, `write-all` and `{}` spelled out). */
function grants(value) {
  if (value === 'read-all' || value === 'write-all')
    return new Map(SCOPES.map(s => [s, value === 'read-all' ? 'read' : 'write']))
  return new Map(Object.entries(value && typeof value === 'object' ? value : {}))
}

/**
 * What a reusable workflow's jobs ask for, scope -> [level, job]: GitHub refuses to start a call
 * whose nested jobs ask for more than the caller grants ("is requesting 'deployments: write', but is
 * only allowed 'none'"), so the caller must grant each of them.
 */
function neededPermissions(workflow) {
  const out = new Map()
  for (const [name, job] of Object.entries(workflow?.jobs ?? {})) {
    for (const [scope, level] of grants(job?.permissions ?? workflow?.permissions)) {
      if ((LEVELS[level] ?? 0) > (LEVELS[out.get(scope)?.[0]] ?? 0)) out.set(scope, [level, name])
    }
  }
  return out
}

/** Findings of one `with:`/`secrets:` mapping against a contract's declared names. */
function contractFindings(uses, contract, given, what) {
  const declared = what === 'secret' ? contract.secrets : contract.inputs
  const out = []
  if (given === 'inherit' || declared === null) return out
  const names = new Set(Object.keys(given ?? {}))
  for (const name of names) {
    if (!declared.has(name))
      out.push(
        `\`${uses}\` declares no ${what} \`${name}\` (it has: ${[...declared.keys()].join(', ') || 'none'})`
      )
  }
  for (const [name, required] of declared) {
    if (required && !names.has(name)) out.push(`\`${uses}\` requires the ${what} \`${name}\``)
  }
  return out
}

/** What is wrong with one `uses:` value, or null when it is acceptable. */
export function usesFinding(uses, firstParty) {
  if (uses.startsWith('./')) return null
  if (uses.startsWith('docker://')) {
    return /@sha256:[0-9a-f]{64}$/.test(uses)
      ? null
      : `\`${uses}\` names a movable image tag; pin it by digest (@sha256:...)`
  }
  const at = uses.lastIndexOf('@')
  if (at < 0) return `\`${uses}\` names no ref; pin it to a full commit SHA`
  const target = uses.slice(0, at)
  const ref = uses.slice(at + 1)
  const ownerRepo = target.split('/').slice(0, 2).join('/').toLowerCase()
  if (firstParty.has(ownerRepo)) return null
  if (!SHA.test(ref))
    return `\`${uses}\` is pinned to \`${ref}\`, a movable ref; pin it to a full 40-hex commit SHA with a version comment`
  return null
}

/** The injectable contexts interpolated into a `run:` script (empty when it is clean). */
export function runFindings(script) {
  const found = []
  for (const m of script.matchAll(EXPRESSION)) {
    if (INJECTABLE.test(m[1])) found.push(m[0])
  }
  return found
}

/** All findings of one workflow file's text, as { line, rule, message }. */
export function checkWorkflow(text, firstParty = new Map()) {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    return [{ line: lineCounter.linePos(e.pos[0]).line, rule: 'yaml', message: e.message }]
  }
  const findings = []
  const lineOf = node => (node?.range ? lineCounter.linePos(node.range[0]).line : 0)
  const add = (node, rule, message) => findings.push({ line: lineOf(node), rule, message })
  const checkUses = (usesNode, withNode, secretsNode) => {
    const uses = String(usesNode.value)
    const pin = usesFinding(uses, firstParty)
    if (pin) add(usesNode, 'pin', pin)
    else if (/@[0-9a-f]{40}$/.test(uses) && !/^\s*v?\d+(\.\d+)*\b/.test(usesNode.comment ?? '')) {
      add(usesNode, 'pin', `\`${uses}\` has no version comment; write the release it is, e.g. \`# v5.0.0\``)
    }
    const contract = firstPartyContract(uses, firstParty)
    if (!contract) return null
    if (contract.missing) {
      add(
        usesNode,
        'contract',
        `\`${uses}\` is first-party but ${contract.missing} does not exist in this checkout`
      )
      return null
    }
    for (const m of contractFindings(uses, contract, withNode?.toJSON?.() ?? {}, 'input'))
      add(withNode ?? usesNode, 'contract', m)
    if (contract.kind === 'reusable workflow') {
      const given = isScalar(secretsNode) ? secretsNode.value : (secretsNode?.toJSON?.() ?? {})
      for (const m of contractFindings(uses, contract, given, 'secret'))
        add(secretsNode ?? usesNode, 'contract', m)
    }
    return contract
  }
  // The permissions a job grants: its own, else the workflow's (GitHub's rule for a called workflow).
  const topPermissions = isMap(doc.contents) ? doc.contents.toJSON().permissions : undefined
  // `on: workflow_call`, `on: [workflow_call, push]` or `on: {workflow_call: ...}`.
  const on = isMap(doc.contents) ? doc.contents.toJSON().on : undefined
  const triggers = typeof on === 'string' ? [on] : Array.isArray(on) ? on : Object.keys(on ?? {})
  const reusable = triggers.includes('workflow_call')
  const selfPin = (usesNode, what) => {
    const target = splitUses(String(usesNode.value))
    if (reusable && target && firstParty.has(target.ownerRepo))
      add(
        usesNode,
        'self-pin',
        `\`${usesNode.value}\` in a reusable workflow runs ${what} \`${target.ref}\` names, not the commit the caller pinned; check out job.workflow_sha and use a ./ path`
      )
  }

  const jobs = isMap(doc.contents) ? doc.contents.get('jobs', true) : null
  if (!isMap(jobs)) return findings
  for (const jobPair of jobs.items) {
    const job = jobPair.value
    if (!isMap(job)) continue
    const jobUses = job.get('uses', true)
    if (isScalar(jobUses)) {
      selfPin(jobUses, 'the workflow that')
      const contract = checkUses(jobUses, job.get('with', true), job.get('secrets', true))
      const granted = grants(job.toJSON().permissions ?? topPermissions)
      for (const [scope, [level, nested]] of contract?.permissions ?? []) {
        if ((LEVELS[granted.get(scope)] ?? 0) < LEVELS[level])
          add(
            jobUses,
            'contract',
            `\`${jobUses.value}\`: its job \`${nested}\` needs ${scope}: ${level}, which job \`${jobPair.key}\` does not grant; GitHub will not start the call`
          )
      }
    }
    const steps = job.get('steps', true)
    if (!isSeq(steps)) continue
    const stepOutputs = new Map() // step id -> declared outputs of a first-party action
    for (const step of steps.items) {
      if (!isMap(step)) continue
      const uses = step.get('uses', true)
      if (isScalar(uses)) {
        selfPin(uses, 'whatever')
        const contract = checkUses(uses, step.get('with', true), null)
        const id = step.get('id')
        if (contract && !contract.missing && id) stepOutputs.set(String(id), contract.outputs)
      }
      const run = step.get('run', true)
      if (isScalar(run)) {
        for (const expr of runFindings(String(run.value))) {
          add(
            run,
            'inject',
            `\`${expr}\` is interpolated into a run script; pass it through the step's env: and use "$NAME"`
          )
        }
      }
    }
    // Every `steps.<id>.outputs.<name>` in this job must be an output the action declares.
    const jobText = String(job.toString())
    for (const m of jobText.matchAll(/\bsteps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g)) {
      const declared = stepOutputs.get(m[1])
      if (declared && !declared.has(m[2])) {
        add(
          jobPair.key,
          'contract',
          `job \`${jobPair.key}\` reads steps.${m[1]}.outputs.${m[2]}, which that action does not declare (it has: ${[...declared].join(', ')})`
        )
      }
    }
  }
  return findings
}

function main(argv) {
  const firstParty = new Map() // owner/repo -> local checkout ('' when only its pins are exempted)
  const files = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--first-party') {
      const [name, dir = ''] = String(argv[++i]).split('=')
      firstParty.set(name.toLowerCase(), dir)
    } else files.push(argv[i])
  }
  if (files.length === 0) {
    console.error('usage: check-workflows.mjs [--first-party owner/repo[=DIR]]... FILE...')
    return 2
  }
  let count = 0
  for (const file of files) {
    for (const f of checkWorkflow(readFileSync(file, 'utf8'), firstParty)) {
      console.log(`${file}:${f.line}: [${f.rule}] ${f.message}`)
      count++
    }
  }
  console.error(`checked ${files.length} workflow file(s): ${count} finding(s)`)
  return count > 0 ? 1 : 0
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]))
  process.exit(main(process.argv.slice(2)))
