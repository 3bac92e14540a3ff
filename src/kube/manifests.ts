import { readFile, readdir, stat } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import * as glob from '@actions/glob'
import { LineCounter, parseAllDocuments } from 'yaml'
import { run } from '../runtime/exec.js'
import type { KubeObject } from './objects.js'

/** Where a manifest document came from, for messages that point at the file and line. */
export interface ManifestSource {
  file: string
  /** 1-based line of the document's first content line. */
  line: number
  /** 1-based position of the document in its file. */
  document: number
}

export interface Manifest {
  object: KubeObject
  source: ManifestSource
}

export interface ManifestProblem {
  source: ManifestSource
  message: string
}

export function formatSource(source: ManifestSource): string {
  return `${source.file}:${source.line} (document ${source.document})`
}

export function formatProblem(p: ManifestProblem): string {
  return `${formatSource(p.source)}: ${p.message}`
}

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/

/**
 * Parses a multi-document YAML text into API objects. Every problem names the file and line;
 * `kind: List` documents are flattened into their items.
 */
export function parseManifests(
  text: string,
  file: string
): { manifests: Manifest[]; problems: ManifestProblem[] } {
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const manifests: Manifest[] = []
  const problems: ManifestProblem[] = []
  const list = Array.isArray(docs) ? docs : [docs]
  list.forEach((doc, index) => {
    const start = doc.contents?.range?.[0] ?? doc.range[0]
    const source: ManifestSource = { file, line: lineCounter.linePos(start).line, document: index + 1 }
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const line = err.linePos?.[0]?.line ?? lineCounter.linePos(err.pos[0]).line
        problems.push({ source: { ...source, line }, message: `YAML error: ${firstLine(err.message)}` })
      }
      return
    }
    if (doc.contents === null) return
    const value: unknown = doc.toJS({ maxAliasCount: 100 })
    if (value === null || value === undefined) return
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({
        source,
        message: 'the document is not a mapping (an API object has apiVersion, kind and metadata)'
      })
      return
    }
    const obj = value as KubeObject
    if (
      obj.kind === 'List' ||
      (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items))
    ) {
      const items = Array.isArray(obj.items) ? (obj.items as unknown[]) : []
      items.forEach((item, i) => {
        const problem = objectProblem(item)
        if (problem) problems.push({ source, message: `items[${i}]: ${problem}` })
        else manifests.push({ object: item as KubeObject, source })
      })
      return
    }
    const problem = objectProblem(obj)
    if (problem) problems.push({ source, message: problem })
    else manifests.push({ object: obj, source })
  })
  return { manifests, problems }
}

function objectProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a mapping'
  const obj = value as KubeObject
  if (typeof obj.apiVersion !== 'string' || obj.apiVersion === '') return 'apiVersion is missing'
  if (typeof obj.kind !== 'string' || obj.kind === '') return 'kind is missing'
  const name = obj.metadata?.name
  if (typeof name !== 'string' || name === '') {
    return `${obj.kind} has no metadata.name (server-side apply needs a name; generateName is not supported)`
  }
  if (!NAME.test(name) && !obj.kind.startsWith('ClusterRole') && !obj.kind.startsWith('Role')) {
    return `${obj.kind} name ${JSON.stringify(name)} is not a valid object name`
  }
  const ns = obj.metadata?.namespace
  if (ns !== undefined && (typeof ns !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns))) {
    return `metadata.namespace ${JSON.stringify(ns)} is not a valid namespace name`
  }
  return undefined
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim()
}

const YAML_FILE = /\.(ya?ml|json)$/i
/** A path inside a .git folder. */
const IN_GIT = /(^|[/\\])\.git([/\\]|$)/

/** The file names kustomize looks for in a folder, in its order. */
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']

/** One resolved `manifests` entry: a YAML file to read, or a kustomize folder to render. */
export type ManifestUnit = { file: string } | { kustomization: string }

/** Renders a kustomize folder into multi-document YAML (`kustomize build` or `kubectl kustomize`). */
export type KustomizeRenderer = (dir: string) => Promise<{ yaml: string; tool: string }>

async function kustomizationIn(dir: string): Promise<string | undefined> {
  const names = new Set(await readdir(dir).catch(() => [] as string[]))
  return KUSTOMIZATION_FILES.find(f => names.has(f))
}

/**
 * Expands the `manifests` input (files, directories, globs) into units, in a stable order (each
 * entry's files sorted, entries in the order given, duplicates dropped). A folder that holds a
 * kustomization file, or that file named directly, is one kustomize unit: rendered, never read as
 * plain YAML. A plain folder with kustomize folders somewhere below it is refused, naming them:
 * read as plain YAML, their kustomization files, patches and test fixtures would all be applied.
 */
export async function resolveManifestUnits(
  entries: readonly string[],
  cwd: string
): Promise<{ units: ManifestUnit[]; problems: string[] }> {
  const units: ManifestUnit[] = []
  const problems: string[] = []
  const seen = new Set<string>()
  const add = (u: ManifestUnit) => {
    const key = 'file' in u ? `f:${u.file}` : `k:${u.kustomization}`
    if (!seen.has(key)) {
      seen.add(key)
      units.push(u)
    }
  }
  const shown = (p: string) => relative(cwd, p) || '.'
  for (const entry of entries) {
    const path = isAbsolute(entry) ? entry : resolve(cwd, entry)
    if (/[*?[{]/.test(entry)) {
      const globber = await glob.create(path, { followSymbolicLinks: true, matchDirectories: false })
      // Nothing under a .git folder (deploy.yml keeps this suite's own files in .git/otlp-deploy-actions).
      const found = (await globber.glob())
        .filter(f => (YAML_FILE.test(f) || KUSTOMIZATION_FILES.includes(basename(f))) && !IN_GIT.test(f))
        .sort()
      if (found.length === 0) problems.push(`${entry}: the pattern matches no .yaml, .yml or .json file`)
      for (const f of found) {
        if (KUSTOMIZATION_FILES.includes(basename(f)))
          problems.push(
            `${entry}: matches ${shown(f)}, a kustomization; name its folder (${shown(dirname(f))}) to render it, or leave it out of the pattern`
          )
        else add({ file: f })
      }
      continue
    }
    let info
    try {
      info = await stat(path)
    } catch {
      problems.push(`${entry}: no such file or directory (relative paths start at ${cwd})`)
      continue
    }
    if (!info.isDirectory()) {
      add(KUSTOMIZATION_FILES.includes(basename(path)) ? { kustomization: dirname(path) } : { file: path })
      continue
    }
    if (await kustomizationIn(path)) {
      add({ kustomization: path })
      continue
    }
    const { files, kustomizations } = await walk(path)
    if (kustomizations.length > 0) {
      problems.push(
        `${entry}: holds kustomize folders (${kustomizations.map(shown).join(', ')}) and no kustomization of its own; name the one to deploy (e.g. ${shown(kustomizations[kustomizations.length - 1]!)}) instead of the folder above them`
      )
      continue
    }
    const found = files.filter(f => YAML_FILE.test(f)).sort()
    if (found.length === 0) problems.push(`${entry}: the directory holds no .yaml, .yml or .json file`)
    for (const f of found) add({ file: f })
  }
  return { units, problems }
}

/** Every file under dir, and the folders below it that hold a kustomization (not descended into). */
async function walk(dir: string): Promise<{ files: string[]; kustomizations: string[] }> {
  const files: string[] = []
  const kustomizations: string[] = []
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name)
  )) {
    const full = join(dir, entry.name)
    // A symbolic link to a folder is walked like the folder (as the glob does); .git never.
    const isDir =
      entry.isDirectory() ||
      (entry.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isDirectory())
    if (entry.name === '.git') continue
    if (!isDir) files.push(full)
    else if (await kustomizationIn(full)) kustomizations.push(full)
    else {
      const below = await walk(full)
      files.push(...below.files)
      kustomizations.push(...below.kustomizations)
    }
  }
  return { files, kustomizations }
}

/**
 * Reads and parses every manifest file and renders every kustomize folder; paths in messages are
 * relative to `cwd`. A rendered document's source is the folder, `(kustomize)`, and its line in the
 * rendered output.
 */
export async function loadManifests(
  entries: readonly string[],
  cwd: string,
  render: KustomizeRenderer = renderKustomization
): Promise<{ manifests: Manifest[]; problems: string[] }> {
  const { units, problems } = await resolveManifestUnits(entries, cwd)
  const manifests: Manifest[] = []
  const shown = (p: string) => {
    const r = relative(cwd, p) || '.'
    return r.startsWith('..') ? p : r
  }
  for (const unit of units) {
    let text: string
    let name: string
    if ('file' in unit) {
      text = await readFile(unit.file, 'utf8')
      name = shown(unit.file)
    } else {
      try {
        const rendered = await render(unit.kustomization)
        text = rendered.yaml
        name = `${shown(unit.kustomization)} (${rendered.tool})`
      } catch (err) {
        problems.push(`${shown(unit.kustomization)}: ${(err as Error).message}`)
        continue
      }
    }
    const parsed = parseManifests(text, name)
    manifests.push(...parsed.manifests)
    problems.push(...parsed.problems.map(formatProblem))
  }
  return { manifests, problems }
}

/**
 * `kustomize build DIR`, else `kubectl kustomize DIR`: whichever the runner has (GitHub's hosted
 * images have both). There is no kustomize library for Node, so the tool renders; its error (the
 * file and field kustomize names) is passed on.
 */
export async function renderKustomization(dir: string): Promise<{ yaml: string; tool: string }> {
  const tools: [string, string[]][] = [
    ['kustomize', ['build', dir]],
    ['kubectl', ['kustomize', dir]]
  ]
  for (const [tool, args] of tools) {
    const result = await run(tool, args, { silent: true, allowFailure: true }).catch(() => undefined)
    if (!result) continue
    if (result.exitCode !== 0)
      throw new Error(
        `${tool} ${args[0]} failed: ${result.stderr.trim().split('\n').slice(-5).join(' / ') || `exit code ${result.exitCode}`}`
      )
    return { yaml: result.stdout, tool: `${tool} ${args[0]}` }
  }
  throw new Error(
    'is a kustomize folder, and neither kustomize nor kubectl is on PATH to render it; install one on the runner (GitHub-hosted images have both), or render it in an earlier step and name the output'
  )
}
