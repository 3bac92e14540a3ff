#!/usr/bin/env node
// The alert rules and the dashboard are written once, here in otlp-client/monitoring/, and copied to
// where Kubernetes tooling needs them: the PrometheusRule of the kustomize base and the Helm chart's
// files/ (Helm can only read files inside the chart). Run after editing either source:
//   node otlp-client/monitoring/sync-copies.mjs          rewrite the copies
//   node otlp-client/monitoring/sync-copies.mjs --check  exit 1 naming every stale copy
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const rulesPath = join(here, 'prometheus-rules.yaml')
const dashboardPath = join(here, 'grafana-dashboard.json')
const rulesText = readFileSync(rulesPath, 'utf8')
const rules = parse(rulesText)
if (!Array.isArray(rules?.groups) || rules.groups.length === 0) {
  console.error(`${rulesPath}: expected a top-level "groups:" list of rule groups`)
  process.exit(1)
}

const prometheusRule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'otlp-client',
    namespace: 'otlp-system',
    labels: {
      'app.kubernetes.io/name': 'otlp-client',
      'app.kubernetes.io/instance': 'otlp-client',
      'app.kubernetes.io/part-of': 'otlp-client'
    }
  },
  spec: { groups: rules.groups }
}
const header =
  '# GENERATED from otlp-client/monitoring/prometheus-rules.yaml by otlp-client/monitoring/sync-copies.mjs;\n' +
  '# edit the source and run the script. Needs the Prometheus Operator (monitoring.coreos.com CRDs).\n'

const copies = new Map([
  [join(root, 'k8s/base/prometheusrule.yaml'), header + stringify(prometheusRule, { lineWidth: 0 })],
  [join(root, 'helm/otlp-client/files/prometheus-rules.yaml'), rulesText],
  [join(root, 'helm/otlp-client/files/grafana-dashboard.json'), readFileSync(dashboardPath, 'utf8')]
])

const check = process.argv.includes('--check')
const stale = []
for (const [path, want] of copies) {
  const have = existsSync(path) ? readFileSync(path, 'utf8') : null
  if (have === want) continue
  if (check) stale.push(relative(process.cwd(), path))
  else writeFileSync(path, want)
}
if (stale.length > 0) {
  console.error(
    `stale generated copies (edit the sources in otlp-client/monitoring/, then run node otlp-client/monitoring/sync-copies.mjs):\n  ${stale.join('\n  ')}`
  )
  process.exit(1)
}
