import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  formatProblem,
  loadManifests,
  parseManifests,
  renderKustomization
} from '../../src/kube/manifests.js'

const GOOD = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data: {a: b}
---
# a comment-only document is skipped
---

apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec: {}
`

describe('parseManifests', () => {
  it('reads every document with its file, line and position', () => {
    const { manifests, problems } = parseManifests(GOOD, 'k8s/app.yaml')
    expect(problems).toEqual([])
    expect(manifests.map(m => [m.object.kind, m.source.line, m.source.document])).toEqual([
      ['ConfigMap', 1, 1],
      ['Deployment', 10, 3]
    ])
  })

  it('names the file and line of a YAML syntax error', () => {
    const text =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [b\n'
    const { problems } = parseManifests(text, 'bad.yaml')
    expect(problems).toHaveLength(1)
    expect(formatProblem(problems[0]!)).toMatch(/^bad\.yaml:(9|10) \(document 2\): YAML error: /)
  })

  it.each([
    ['a document that is not a mapping', '- a\n- b\n', /not a mapping/],
    ['a missing kind', 'apiVersion: v1\nmetadata: {name: a}\n', /kind is missing/],
    ['a missing name', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}\n', /no metadata.name/],
    [
      'a bad namespace',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: Not_OK}\n',
      /not a valid namespace/
    ],
    ['a duplicate key', 'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: a}\n', /YAML error/]
  ])('rejects %s', (_, text, message) => {
    const { problems } = parseManifests(text, 'f.yaml')
    expect(problems[0]?.message).toMatch(message)
  })

  it('flattens a List', () => {
    const text =
      'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n'
    expect(parseManifests(text, 'l.yaml').manifests.map(m => m.object.metadata?.name)).toEqual(['a', 'b'])
  })
})

describe('loadManifests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manifests-'))
  mkdirSync(join(dir, 'k8s/sub'), { recursive: true })
  writeFileSync(join(dir, 'k8s/b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n')
  writeFileSync(join(dir, 'k8s/sub/a.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n')
  writeFileSync(join(dir, 'k8s/README.md'), 'not yaml')
  writeFileSync(join(dir, 'one.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n')

  it('expands directories recursively and globs, in a stable order, without duplicates', async () => {
    const { manifests, problems } = await loadManifests(['one.yaml', 'k8s', 'k8s/*.yaml'], dir)
    expect(problems).toEqual([])
    expect(manifests.map(m => `${m.source.file}:${m.object.metadata?.name}`)).toEqual([
      'one.yaml:one',
      'k8s/b.yaml:b',
      'k8s/sub/a.yml:a'
    ])
  })

  it('names entries that match nothing', async () => {
    const { problems } = await loadManifests(['missing.yaml', 'nothing/*.yaml'], dir)
    expect(problems).toEqual([
      expect.stringMatching(/^missing\.yaml: no such file/),
      expect.stringMatching(/^nothing\/\*\.yaml: the pattern matches no/)
    ])
  })
})

describe('loadManifests with kustomize folders (the renderer stubbed: rendering is e2e)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-'))
  mkdirSync(join(dir, 'k8s/base'), { recursive: true })
  mkdirSync(join(dir, 'k8s/overlays/prod'), { recursive: true })
  mkdirSync(join(dir, 'k8s/testing'), { recursive: true })
  writeFileSync(join(dir, 'k8s/base/kustomization.yaml'), 'resources: [cm.yaml]\n')
  writeFileSync(join(dir, 'k8s/base/cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base}\n')
  writeFileSync(join(dir, 'k8s/overlays/prod/Kustomization'), 'resources: [../../base]\n')
  writeFileSync(
    join(dir, 'k8s/testing/crd.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fixture}\n'
  )
  const rendered: string[] = []
  const render = async (d: string) => {
    rendered.push(d)
    return {
      tool: 'kubectl kustomize',
      yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rendered}\n---\napiVersion: v1\nkind: Secret\nmetadata: {}\n'
    }
  }

  it('renders a folder with a kustomization file, or the file named directly, instead of reading it', async () => {
    rendered.length = 0
    const { manifests, problems } = await loadManifests(
      ['k8s/overlays/prod', 'k8s/base/kustomization.yaml'],
      dir,
      render
    )
    expect(rendered).toEqual([join(dir, 'k8s/overlays/prod'), join(dir, 'k8s/base')])
    expect(manifests.map(m => `${m.source.file}:${m.source.line}:${m.object.metadata?.name}`)).toEqual([
      'k8s/overlays/prod (kubectl kustomize):1:rendered',
      'k8s/base (kubectl kustomize):1:rendered'
    ])
    // A problem in the rendered output names the folder, the tool and the output's line.
    expect(problems).toEqual([
      'k8s/overlays/prod (kubectl kustomize):5 (document 2): Secret has no metadata.name (server-side apply needs a name; generateName is not supported)',
      'k8s/base (kubectl kustomize):5 (document 2): Secret has no metadata.name (server-side apply needs a name; generateName is not supported)'
    ])
  })

  it('refuses a plain folder above kustomize folders, naming them, and reads none of it', async () => {
    rendered.length = 0
    const { manifests, problems } = await loadManifests(['k8s'], dir, render)
    expect(rendered).toEqual([])
    expect(manifests).toEqual([])
    expect(problems).toEqual([
      'k8s: holds kustomize folders (k8s/base, k8s/overlays/prod) and no kustomization of its own; name the one to deploy (e.g. k8s/overlays/prod) instead of the folder above them'
    ])
  })

  it('never reads a .git folder, and walks a symbolic link to a folder like the folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'manifests-git-'))
    mkdirSync(join(root, 'deploy/.git/otlp-deploy-actions/actions'), { recursive: true })
    writeFileSync(join(root, 'deploy/.git/otlp-deploy-actions/actions/action.yml'), 'name: not a manifest\n')
    writeFileSync(join(root, 'deploy/app.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n')
    mkdirSync(join(root, 'shared'))
    writeFileSync(
      join(root, 'shared/extra.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n'
    )
    symlinkSync(join(root, 'shared'), join(root, 'deploy/linked'))
    for (const entries of [['deploy'], ['deploy/**']]) {
      const { manifests, problems } = await loadManifests(entries, root, render)
      expect({ entries, problems }).toEqual({ entries, problems: [] })
      expect(manifests.map(m => m.object.metadata?.name)).toEqual(['app', 'extra'])
    }
  })

  it('refuses a glob that matches a kustomization without an extension (Kustomization)', async () => {
    const { problems } = await loadManifests(['k8s/overlays/prod/*'], dir, render)
    expect(problems).toEqual([
      'k8s/overlays/prod/*: matches k8s/overlays/prod/Kustomization, a kustomization; name its folder (k8s/overlays/prod) to render it, or leave it out of the pattern'
    ])
  })

  it('refuses a glob that picks up a kustomization file as plain YAML', async () => {
    const { problems } = await loadManifests(['k8s/base/*.yaml'], dir, render)
    expect(problems).toEqual([
      'k8s/base/*.yaml: matches k8s/base/kustomization.yaml, a kustomization; name its folder (k8s/base) to render it, or leave it out of the pattern'
    ])
  })

  it("passes on the renderer's error, naming the folder", async () => {
    const { problems } = await loadManifests(['k8s/base'], dir, async () => {
      throw new Error('kubectl kustomize failed: Error: accumulating resources: missing.yaml: no such file')
    })
    expect(problems).toEqual([
      'k8s/base: kubectl kustomize failed: Error: accumulating resources: missing.yaml: no such file'
    ])
  })

  it('without kustomize or kubectl on PATH, says what to install', async () => {
    const path = process.env.PATH
    process.env.PATH = join(dir, 'no-tools-here')
    try {
      await expect(renderKustomization(join(dir, 'k8s/base'))).rejects.toThrow(
        /neither kustomize nor kubectl is on PATH to render it; install one on the runner/
      )
    } finally {
      process.env.PATH = path
    }
  })
})
