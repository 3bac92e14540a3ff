import { readFile, readdir, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve } from 'node:path'
import * as glob from '@actions/glob'
import { LineCounter, parseAllDocuments } from 'yaml'
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

/**
 * Expands the `manifests` input (files, directories, globs) into files, in a stable order
 * (each entry's files sorted, entries in the order given, duplicates dropped).
 */
export async function resolveManifestFiles(
  entries: readonly string[],
  cwd: string
): Promise<{ files: string[]; problems: string[] }> {
  const files: string[] = []
  const problems: string[] = []
  const seen = new Set<string>()
  const add = (f: string) => {
    if (!seen.has(f)) {
      seen.add(f)
      files.push(f)
    }
  }
  for (const entry of entries) {
    const path = isAbsolute(entry) ? entry : resolve(cwd, entry)
    if (/[*?[{]/.test(entry)) {
      const globber = await glob.create(path, { followSymbolicLinks: true, matchDirectories: false })
      const found = (await globber.glob()).filter(f => YAML_FILE.test(f)).sort()
      if (found.length === 0) problems.push(`${entry}: the pattern matches no .yaml, .yml or .json file`)
      found.forEach(add)
      continue
    }
    let info
    try {
      info = await stat(path)
    } catch {
      problems.push(`${entry}: no such file or directory (relative paths start at ${cwd})`)
      continue
    }
    if (info.isDirectory()) {
      const found = (await walk(path)).filter(f => YAML_FILE.test(f)).sort()
      if (found.length === 0) problems.push(`${entry}: the directory holds no .yaml, .yml or .json file`)
      found.forEach(add)
    } else add(path)
  }
  return { files, problems }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await walk(full)))
    else out.push(full)
  }
  return out
}

/** Reads and parses every manifest file; paths in messages are relative to `cwd`. */
export async function loadManifests(
  entries: readonly string[],
  cwd: string
): Promise<{ manifests: Manifest[]; problems: string[] }> {
  const { files, problems } = await resolveManifestFiles(entries, cwd)
  const manifests: Manifest[] = []
  for (const file of files) {
    const shown = relative(cwd, file) || file
    const text = await readFile(file, 'utf8')
    const parsed = parseManifests(text, shown.startsWith('..') ? file : shown)
    manifests.push(...parsed.manifests)
    problems.push(...parsed.problems.map(formatProblem))
  }
  return { manifests, problems }
}
