/**
 * image-build benchmark: for each builder, a cold two-platform build and push (a fresh nonce
 * makes every step after FROM a cache miss), then the same build unchanged (warm). Both run the
 * bundled action through the runner-faithful harness; the ratio warm/cold is the result (goal <= 0.1).
 * Writes bench/results/image-build.json.
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT, runAction, type ActionRun } from '../../__tests__/harness/runner.js'
import { requireTestbed } from '../../__tests__/e2e/testbed.js'

const GOAL = 0.1
const tb = requireTestbed(
  'REGISTRY',
  'REGISTRY_USERNAME',
  'REGISTRY_PASSWORD',
  'TESTBED_BASE_IMAGE',
  'BUILDX_BUILDER',
  'DOCKER_CONFIG'
)
const builders = (process.env.BENCH_BUILDERS ?? 'buildx,buildah').split(',').filter(Boolean)
const chunks = process.env.BENCH_CHUNKS ?? '96'
const nonce = `${Date.now().toString(36)}-${process.pid}`

const workspace = mkdtempSync(join(tmpdir(), 'bench-image-build-'))
cpSync(join(REPO_ROOT, 'bench/image-build/workload'), join(workspace, 'app'), { recursive: true })
writeFileSync(join(workspace, 'app', 'nonce.txt'), `${nonce}\n`)

const passthrough = [
  'DOCKER_CONFIG',
  'DOCKER_HOST',
  'BUILDKIT_HOST',
  'BUILDX_BUILDER',
  'CONTAINERS_REGISTRIES_CONF',
  'CONTAINERS_STORAGE_CONF',
  'CONTAINERS_CONF',
  'REGISTRY_AUTH_FILE'
]
const env: Record<string, string> = {}
for (const name of passthrough) if (tb[name]) env[name] = tb[name]!

interface Measure {
  timings: { phase: string; ms: number }[]
  totalMs: number
  buildMs: number
  digest: string
  cache: { steps: number; cached: number }
}

async function build(builder: string, phase: string): Promise<Measure> {
  const run: ActionRun = await runAction({
    action: 'image-build',
    cwd: workspace,
    env,
    inputs: {
      context: 'app',
      images: `${tb.REGISTRY}/bench/image-build-${builder}`,
      tags: `type=raw,value=${nonce}`,
      platforms: 'linux/amd64,linux/arm64',
      builder,
      'build-args': `BASE=${tb.TESTBED_BASE_IMAGE}\nCHUNKS=${chunks}`,
      username: tb.REGISTRY_USERNAME!,
      password: tb.REGISTRY_PASSWORD!,
      timeout: '20m'
    },
    timeoutMs: 1_200_000
  })
  if (run.exitCode !== 0) {
    const errors = run.annotations.filter(a => a.level === 'error').map(a => a.message)
    throw new Error(
      `${builder} ${phase} build failed: ${errors.join('; ')}\n${run.log.split('\n').slice(-30).join('\n')}`
    )
  }
  if (process.env.BENCH_LOG_DIR)
    writeFileSync(join(process.env.BENCH_LOG_DIR, `${builder}-${phase}.log`), run.log)
  const meta = JSON.parse(run.outputs.metadata!) as {
    'build-ms': number
    cache: Measure['cache']
    timings: Measure['timings']
  }
  const m = {
    totalMs: run.durationMs,
    buildMs: meta['build-ms'],
    digest: run.outputs.digest!,
    cache: meta.cache,
    timings: meta.timings
  }
  console.log(
    `${builder} ${phase}: step ${(m.totalMs / 1000).toFixed(1)}s, build ${(m.buildMs / 1000).toFixed(1)}s, cache ${m.cache.cached}/${m.cache.steps}`
  )
  return m
}

const results: Record<string, unknown> = {}
let worst = 0
for (const builder of builders) {
  const cold = await build(builder, 'cold')
  const warm = await build(builder, 'warm')
  const ratio = warm.totalMs / cold.totalMs
  worst = Math.max(worst, ratio)
  results[builder] = {
    cold,
    warm,
    ratio_step: Number(ratio.toFixed(3)),
    ratio_build: Number((warm.buildMs / cold.buildMs).toFixed(3)),
    same_digest: cold.digest === warm.digest
  }
  console.log(
    `${builder}: warm/cold = ${ratio.toFixed(3)} (step), ${(warm.buildMs / cold.buildMs).toFixed(3)} (build phase); goal <= ${GOAL}`
  )
}

const report = {
  benchmark:
    'image-build cold vs unchanged warm rebuild, linux/amd64 + linux/arm64, pushed to the test bed registry',
  measured_at: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  workload: {
    dockerfile: 'bench/image-build/workload/Dockerfile',
    chunks: Number(chunks),
    note:
      'CPU-bound RUN steps (compression, hashing; arm64 under QEMU): a cold build of 20-25 s here, about a third of ' +
      'the otlp-client release build (66 s on this machine). A warm rebuild has a fixed cost (node start, log-in, one ' +
      'LABEL step for the new created label, push of a new config, manifest read-back), so the ratio falls as builds grow.'
  },
  goal: { max_warm_over_cold: GOAL },
  results,
  worst_ratio: Number(worst.toFixed(3)),
  meets_goal: worst <= GOAL
}
mkdirSync(join(REPO_ROOT, 'bench/results'), { recursive: true })
writeFileSync(join(REPO_ROOT, 'bench/results/image-build.json'), JSON.stringify(report, null, 2) + '\n')
console.log(
  `wrote bench/results/image-build.json: worst warm/cold ${worst.toFixed(3)} (goal <= ${GOAL}) ${worst <= GOAL ? 'MET' : 'NOT MET'}`
)
