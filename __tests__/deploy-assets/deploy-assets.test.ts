// Static checks of the otlp-client deploy assets (no cluster, no tools): what a reviewer would look
// for in otlp-client/k8s, otlp-client/monitoring and the Helm chart's values. The rendering, the
// promtool checks and the API server's verdict are in scripts/check-deploy.sh.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { REPO_ROOT } from '../harness/runner.js'

type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const OC = join(REPO_ROOT, 'otlp-client')
const read = (...p: string[]): string => readFileSync(join(OC, ...p), 'utf8')
const yamlDocs = (...p: string[]): Obj[] => parseAllDocuments(read(...p)).map(d => d.toJSON() as Obj)

const base: Obj[] = readdirSync(join(OC, 'k8s/base'))
  .filter(f => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap(f => yamlDocs('k8s/base', f))
const byKind = (kind: string): Obj => {
  const found = base.filter(o => o.kind === kind)
  expect(found.map(o => o.kind)).toEqual([kind])
  return found[0]!
}
const deployment = byKind('Deployment')
const podSpec = deployment.spec.template.spec
const rules = parse(read('monitoring/prometheus-rules.yaml'))
const dashboard = JSON.parse(read('monitoring/grafana-dashboard.json'))

// Every metric name the relay renders, read from its source: the renderer writes each name once as a
// string literal, and a histogram adds _bucket/_sum/_count.
function relayMetricNames(): Set<string> {
  const src = read('src/ops/metrics.rs')
  const names = new Set<string>()
  for (const [, name] of src.matchAll(/"(otlp_[a-z0-9_]+)"/g)) names.add(name!)
  for (const n of [...names]) {
    if (new RegExp(`name = "${n}";[\\s\\S]{0,200}histogram`).test(src)) {
      for (const s of ['_bucket', '_sum', '_count']) names.add(n + s)
    }
  }
  return names
}

function dashboardPanels(): Obj[] {
  const out: Obj[] = []
  const walk = (panels: Obj[] = []): void => {
    for (const p of panels) {
      out.push(p)
      walk(p.panels)
    }
  }
  walk(dashboard.panels)
  return out
}

const exprsOf = (): string[] => [
  ...rules.groups.flatMap((g: Obj) => g.rules.map((r: Obj) => r.expr as string)),
  ...dashboardPanels().flatMap(p => (p.targets ?? []).map((t: Obj) => t.expr as string))
]

describe('kustomize base', () => {
  it('enforces the restricted Pod Security Standard on its namespace instead of a PodSecurityPolicy', () => {
    const labels = byKind('Namespace').metadata.labels
    for (const mode of ['enforce', 'audit', 'warn']) {
      expect(labels[`pod-security.kubernetes.io/${mode}`]).toBe('restricted')
    }
    expect(base.some(o => o.kind === 'PodSecurityPolicy')).toBe(false)
  })

  it('runs every container non-root, read-only, without capabilities, under RuntimeDefault seccomp', () => {
    expect(podSpec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' }
    })
    expect(podSpec.securityContext.runAsUser).toBeGreaterThan(0)
    for (const c of podSpec.containers) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' }
      })
      expect(c.image).not.toMatch(/:latest$|^[^:]+$/)
    }
  })

  it('mounts no service-account token and grants the relay no API access', () => {
    expect(podSpec.automountServiceAccountToken).toBe(false)
    expect(byKind('ServiceAccount').automountServiceAccountToken).toBe(false)
    expect(podSpec.serviceAccountName).toBe('otlp-client')
    expect(base.filter(o => /Role/.test(o.kind))).toEqual([])
  })

  it('runs 3 replicas through the HPA, spread by pod anti-affinity, with the plan resources and probes', () => {
    // Left to the HPA: a count in the manifest conflicts with the HPA's at the next server-side apply.
    expect(deployment.spec.replicas).toBeUndefined()
    expect(byKind('HorizontalPodAutoscaler').spec.minReplicas).toBe(3)
    const term =
      podSpec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm
    expect(term.topologyKey).toBe('kubernetes.io/hostname')
    expect(term.labelSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels)
    const c = podSpec.containers[0]
    expect(c.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '512Mi' }
    })
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' })
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' })
    expect(c.startupProbe.httpGet.path).toBe('/health')
  })

  it('exposes 8080, 4317 and 4318 on the Service, each to a named container port', () => {
    const svc = byKind('Service')
    const containerPorts = new Map<string, number>(
      podSpec.containers[0].ports.map((p: Obj) => [p.name, p.containerPort])
    )
    expect(svc.spec.ports.map((p: Obj) => p.port)).toEqual([8080, 4317, 4318])
    for (const p of svc.spec.ports) expect(containerPorts.get(p.targetPort)).toBe(p.port)
    expect(svc.spec.selector).toEqual(deployment.spec.selector.matchLabels)
  })

  it('exports OTLP to the backend on 4317, never to the Jaeger Thrift port', () => {
    const toml = read('k8s/base/config.toml')
    expect(toml).toMatch(/^endpoint = "http:\/\/[^"]+:4317"$/m)
    expect(toml).toMatch(/^protocol = "grpc"$/m)
    const values = read('helm/otlp-client/values.yaml')
    for (const text of [toml, values]) expect(text).not.toMatch(/^[^#]*:14268/m)
  })

  it('allows ingress only on 8080 and 4317/4318, egress only to OTLP ports and DNS', () => {
    const np = byKind('NetworkPolicy').spec
    expect(np.policyTypes).toEqual(['Ingress', 'Egress'])
    const ports = (rules: Obj[]): number[] => rules.flatMap(r => r.ports.map((p: Obj) => p.port)).sort()
    expect(ports(np.ingress)).toEqual([4317, 4318, 8080])
    expect(ports(np.egress)).toEqual([4317, 4318, 53, 53].sort())
    for (const rule of [...np.ingress, ...np.egress]) expect(rule.from ?? rule.to).not.toEqual([])
  })

  it('scales on CPU and memory only, and keeps one disruption at a time', () => {
    const hpa = byKind('HorizontalPodAutoscaler').spec
    expect(hpa.metrics.map((m: Obj) => `${m.type}/${m.resource?.name}`)).toEqual([
      'Resource/cpu',
      'Resource/memory'
    ])
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([3, 10])
    expect(byKind('PodDisruptionBudget').spec).toMatchObject({
      maxUnavailable: 1,
      selector: { matchLabels: deployment.spec.selector.matchLabels }
    })
  })

  it('carries the alert rules in its PrometheusRule unchanged', () => {
    expect(byKind('PrometheusRule').spec.groups).toEqual(rules.groups)
    expect(parse(read('helm/otlp-client/files/prometheus-rules.yaml'))).toEqual(rules)
    expect(JSON.parse(read('helm/otlp-client/files/grafana-dashboard.json'))).toEqual(dashboard)
  })

  it('scrapes the Service port that serves /metrics, as job otlp-client', () => {
    const sm = byKind('ServiceMonitor').spec
    expect(sm.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })])
    expect(byKind('Service').metadata.labels[sm.jobLabel]).toBe('otlp-client')
  })
})

describe('alert rules and dashboard', () => {
  const alerts = rules.groups.flatMap((g: Obj) => g.rules).filter((r: Obj) => r.alert)

  it('carry the four alerts of the deploy plan, each with a severity and a description', () => {
    const names = alerts.map((r: Obj) => r.alert)
    for (const plan of [
      'OTLPClientDown',
      'OTLPClientHighErrorRate',
      'OTLPClientHighLatency',
      'OTLPClientCircuitBreakerOpen'
    ]) {
      expect(names).toContain(plan)
    }
    for (const a of alerts) {
      expect({ alert: a.alert, severity: ['critical', 'warning'].includes(a.labels?.severity) }).toEqual({
        alert: a.alert,
        severity: true
      })
      expect(a.annotations.summary && a.annotations.description).toBeTruthy()
    }
  })

  it('each have a promtool unit test that sees them fire and stay quiet', () => {
    const tests = parse(read('monitoring/prometheus-rules.test.yaml')).tests as Obj[]
    const checks = tests.flatMap(t => t.alert_rule_test as Obj[])
    for (const a of alerts) {
      const mine = checks.filter(c => c.alertname === a.alert)
      expect({
        alert: a.alert,
        fires: mine.some(c => c.exp_alerts.length > 0),
        quiet: mine.some(c => c.exp_alerts.length === 0)
      }).toEqual({ alert: a.alert, fires: true, quiet: true })
    }
  })

  it('use only metric names the relay renders', () => {
    const rendered = relayMetricNames()
    expect(rendered.has('otlp_requests_total')).toBe(true)
    const used = new Set(exprsOf().flatMap(e => e.match(/\botlp_[a-z0-9_]+/g) ?? []))
    expect([...used].filter(n => !rendered.has(n))).toEqual([])
  })

  it('is an importable dashboard model with the plan panels', () => {
    expect(dashboard.dashboard).toBeUndefined() // the model itself, not an HTTP API envelope
    expect(dashboard).toMatchObject({
      uid: expect.any(String),
      title: expect.any(String),
      schemaVersion: expect.any(Number)
    })
    const titles = dashboardPanels().map(p => p.title)
    for (const t of ['Request Rate', 'Error Rate', 'Response Time', 'Circuit Breaker Status'])
      expect(titles).toContain(t)
    expect(dashboardPanels().some(p => p.type === 'graph')).toBe(false) // removed from Grafana 11
  })

  it('has unique panel ids, non-overlapping panels and one data source variable for every query', () => {
    const panels = dashboardPanels()
    expect(new Set(panels.map(p => p.id)).size).toBe(panels.length)
    const cells = new Map<string, string>()
    const clashes: string[] = []
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos
      if (x + w > 24) clashes.push(`${p.title} is wider than the grid`)
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const other = cells.get(`${i},${j}`)
          if (other) clashes.push(`${p.title} overlaps ${other}`)
          cells.set(`${i},${j}`, p.title)
        }
      }
    }
    expect([...new Set(clashes)]).toEqual([])
    expect(dashboard.templating.list.find((v: Obj) => v.type === 'datasource')?.name).toBe('datasource')
    for (const p of panels.filter(p => p.targets)) {
      expect(new Set(p.targets.map((t: Obj) => t.refId)).size).toBe(p.targets.length)
      for (const t of p.targets) expect(t.datasource.uid).toBe('${datasource}')
    }
  })
})
