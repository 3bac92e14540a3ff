#!/usr/bin/env node
// Small readers used by scripts/check-deploy.sh (needs the repository's node_modules for `yaml`).
//   assets.mjs dashboard-rules DASHBOARD.json        the dashboard's queries as recording rules, so
//                                                    `promtool check rules` parses every one of them
//   assets.mjs metric-names RULES.yaml DASHBOARD.json  otlp_* metric names the rules and dashboard use
//   assets.mjs scrape-names < exposition.txt          sample names in a Prometheus text exposition
//   assets.mjs config-tomls RENDERED.yaml OUTDIR      writes each ConfigMap's config.toml to
//                                                    OUTDIR/<namespace>.<name>.toml, prints the paths
//   assets.mjs kind KIND RENDERED.yaml                the documents of that kind, as YAML
//   assets.mjs compare KUSTOMIZE.yaml HELM.yaml       exit 1 listing where the chart's objects differ
//                                                    from the base's (labels, hashes and comments aside)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { parse, parseAllDocuments, stringify } from 'yaml'

const die = msg => {
  console.error(`assets.mjs: ${msg}`)
  process.exit(2)
}

// Grafana variables replaced by values Prometheus accepts, so the query is parsed as Grafana sends it.
const grafanaVariables = [
  [/\$__rate_interval|\$__interval|\$__range/g, '5m'],
  [/\$\{?namespace\}?|\$\{?signal\}?/g, '.*']
]

function dashboardQueries(path) {
  const dashboard = JSON.parse(readFileSync(path, 'utf8'))
  const queries = []
  const walk = panels => {
    for (const p of panels ?? []) {
      walk(p.panels)
      for (const t of p.targets ?? []) {
        if (!t.expr) die(`${path}: panel "${p.title}" target ${t.refId} has no expr`)
        queries.push({ panel: p.title, refId: t.refId, expr: t.expr })
      }
    }
  }
  walk(dashboard.panels)
  for (const v of dashboard.templating?.list ?? []) {
    const q = typeof v.query === 'object' ? v.query?.query : v.query
    const m = typeof q === 'string' && /^label_values\((.*),\s*\w+\)$/.exec(q)
    if (m) queries.push({ panel: `variable ${v.name}`, refId: 'var', expr: m[1] })
  }
  if (queries.length === 0) die(`${path}: no panel queries found`)
  return queries
}

function substitute(expr) {
  return grafanaVariables.reduce((e, [re, value]) => e.replace(re, value), expr)
}

function ruleExprs(path) {
  const rules = parse(readFileSync(path, 'utf8'))
  return (rules.groups ?? []).flatMap(g => g.rules.map(r => r.expr))
}

// --- compare: the chart must render what the base holds --------------------------------------------

// Labels and annotations that only say who rendered the object, and the generator's hash suffix.
const renderingLabels = ['app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'helm.sh/chart']

function renderedObjects(path) {
  const objects = new Map()
  for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
    const o = doc.toJSON()
    if (!o?.kind) continue
    const name = o.metadata.name.replace(/-config-[a-z0-9]{10}$/, '-config')
    objects.set(`${o.kind}/${name}`, o)
  }
  return objects
}

// config.toml as section.key -> value, comments and layout aside.
function tomlPairs(text) {
  const pairs = {}
  let section = ''
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').replace(/^#.*$/, '').trim()
    if (!line) continue
    const header = /^\[([^\]]+)\]$/.exec(line)
    if (header) section = header[1]
    else {
      const [key, ...value] = line.split('=')
      pairs[`${section}.${key.trim()}`] = value.join('=').trim()
    }
  }
  return pairs
}

function comparable(o) {
  const c = structuredClone(o)
  delete c.metadata
  if (c.kind === 'ConfigMap' && c.data?.['config.toml']) c.data['config.toml'] = tomlPairs(c.data['config.toml'])
  const template = c.spec?.template
  if (template) {
    for (const l of renderingLabels) delete template.metadata.labels?.[l]
    delete template.metadata.annotations?.['checksum/config']
    if (template.metadata.annotations && Object.keys(template.metadata.annotations).length === 0)
      delete template.metadata.annotations
    for (const v of template.spec.volumes ?? [])
      if (v.configMap) v.configMap.name = v.configMap.name.replace(/-config-[a-z0-9]{10}$/, '-config')
  }
  return c
}

function diff(a, b, path, out) {
  if (JSON.stringify(a) === JSON.stringify(b)) return out
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], `${path}.${k}`, out)
  } else {
    out.push(`${path}: base ${JSON.stringify(a)}, chart ${JSON.stringify(b)}`)
  }
  return out
}

// Every object of the base but its Namespace must come out of the chart identical in substance.
function compare(base, chart) {
  const out = []
  for (const [id, o] of base) {
    if (o.kind === 'Namespace') continue
    const other = chart.get(id)
    if (!other) out.push(`${id}: in the base, not rendered by the chart`)
    else diff(comparable(o), comparable(other), id, out)
  }
  return out
}

const [command, ...args] = process.argv.slice(2)
switch (command) {
  case 'dashboard-rules': {
    const rules = dashboardQueries(args[0]).map((q, i) => ({
      record: `dashboard:query_${i}`,
      expr: substitute(q.expr),
      labels: { panel: q.panel, ref: q.refId }
    }))
    process.stdout.write(stringify({ groups: [{ name: 'dashboard-queries', rules }] }, { lineWidth: 0 }))
    break
  }
  case 'metric-names': {
    const exprs = [...ruleExprs(args[0]), ...dashboardQueries(args[1]).map(q => q.expr)]
    const names = new Set(exprs.flatMap(e => e.match(/\botlp_[a-z0-9_]+/g) ?? []))
    console.log([...names].sort().join('\n'))
    break
  }
  case 'scrape-names': {
    const text = readFileSync(0, 'utf8')
    const names = new Set()
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)
      if (m) names.add(m[1])
    }
    console.log([...names].sort().join('\n'))
    break
  }
  case 'config-tomls': {
    const [rendered, outDir] = args
    mkdirSync(outDir, { recursive: true })
    let count = 0
    for (const doc of parseAllDocuments(readFileSync(rendered, 'utf8'))) {
      const o = doc.toJSON()
      if (o?.kind !== 'ConfigMap' || typeof o.data?.['config.toml'] !== 'string') continue
      const out = join(outDir, `${o.metadata.namespace ?? 'default'}.${o.metadata.name}.toml`)
      writeFileSync(out, o.data['config.toml'])
      console.log(out)
      count++
    }
    if (count === 0) die(`${rendered}: no ConfigMap with a config.toml key`)
    break
  }
  case 'kind': {
    const [kind, rendered] = args
    const docs = parseAllDocuments(readFileSync(rendered, 'utf8')).filter(d => d.toJSON()?.kind === kind)
    if (docs.length === 0) die(`${rendered}: no ${kind}`)
    process.stdout.write(docs.map(d => d.toString()).join('---\n'))
    break
  }
  case 'compare': {
    const differences = compare(...args.map(renderedObjects))
    if (differences.length > 0) {
      console.error(`the Helm chart and the kustomize base differ:\n  ${differences.join('\n  ')}`)
      process.exit(1)
    }
    break
  }
  default:
    die(`unknown command ${JSON.stringify(command)} (dashboard-rules, metric-names, scrape-names, config-tomls, kind)`)
}
