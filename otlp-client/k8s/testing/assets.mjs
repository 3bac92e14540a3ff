#!/usr/bin/env node
// Small readers used by scripts/check-deploy.sh (needs the repository's node_modules for `yaml`).
//   assets.mjs dashboard-rules DASHBOARD.json        the dashboard's queries as recording rules, so
//                                                    `promtool check rules` parses every one of them
//   assets.mjs metric-names RULES.yaml DASHBOARD.json  otlp_* metric names the rules and dashboard use
//   assets.mjs scrape-names < exposition.txt          sample names in a Prometheus text exposition
//   assets.mjs config-tomls RENDERED.yaml OUTDIR      writes each ConfigMap's config.toml to
//                                                    OUTDIR/<namespace>.<name>.toml, prints the paths
//   assets.mjs kind KIND RENDERED.yaml                the documents of that kind, as YAML
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
  default:
    die(`unknown command ${JSON.stringify(command)} (dashboard-rules, metric-names, scrape-names, config-tomls, kind)`)
}
