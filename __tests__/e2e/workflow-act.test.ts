/**
 * The workflows under a real runner: nektos/act (built from its Go module) runs them on this host,
 * offline, with the actions taken from this checkout. See scripts/act-run.sh and docs/workflows.md.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT } from '../harness/runner.js'
import { requireTestbed } from './testbed.js'

function run(script: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', script), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 580_000
  })
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

describe('workflows', () => {
  it('pass actionlint and the pin/injection/contract checks, and every bad fixture is caught', () => {
    const { status, output } = run('lint-workflows.sh', [])
    expect(output).toMatch(/workflow-lint self-test: \d+ passed, 0 failed/)
    expect({ status, tail: output.slice(-2000) }).toEqual({ status: 0, tail: expect.any(String) })
  })

  it('run a local action under act on the host without network (probe)', () => {
    const { status, output } = run('act-run.sh', ['--probe'])
    expect(output).toContain('timeout: "5 minutes" is not a duration')
    expect({ status, tail: output.slice(-2000) }).toEqual({ status: 0, tail: expect.any(String) })
  })

  it('deploy.yml called by a service repository, pinned by SHA, tests, builds, pushes and rolls out the digest with deployment records; dispatch, PR delta, bad release rolled back, redeploys, keyless rollback-to last-success', () => {
    requireTestbed(
      'KUBECONFIG',
      'KUBECONFIG_DEPLOYER',
      'KUBECTL',
      'REGISTRY',
      'REGISTRY_USERNAME',
      'REGISTRY_PASSWORD',
      'TESTBED_BASE_IMAGE'
    )
    const { status, output } = run('act-run.sh', [])
    const reported = /\| act-run: result=(\S+) image-ref=(\S+)/.exec(output)
    expect({ status, result: reported?.[1], tail: output.slice(-4000) }).toEqual({
      status: 0,
      result: 'success',
      tail: expect.any(String)
    })
    expect(reported?.[2]).toMatch(/\/act-e2e\/greeter@sha256:[0-9a-f]{64}$/)
    // Pinned by SHA while v1 named a decoy: the three jobs ran that commit's bundles, by checksum.
    expect(output).toMatch(
      /pinned: deploy\.yml@[0-9a-f]{40} ran that commit's bundles in all 3 jobs \(dist\/rollout\/index\.js sha256 [0-9a-f]{12}\); v1 was a decoy/
    )
    expect(output).not.toContain('the decoy v1 bundle ran')
    expect(output).toMatch(/deployment\/greeter in act-e2e runs \S+@sha256:/)
    // deploy.yml dispatched by hand in this repository deploys its own build.
    expect(output).toMatch(/runs \S+@sha256:[0-9a-f]{64} \(the dispatched deploy\.yml built\)/)
    // The pull request adds untested code: its delta against the deployed base is negative.
    expect(output).toMatch(/pull request: coverage=[\d.]+ delta=-[\d.]+ tests=2/)
    // The one-step root action builds, pushes and rolls out in a single step.
    expect(output).toContain('(the one-step action reported)')
    // A version tag pushes 1.4.2, 1.4, 1 and latest, all naming the released digest.
    expect(output).toMatch(/act-e2e\/greeter:1\.4\.2, :1\.4, :1 and :latest are all sha256:[0-9a-f]{64}/)
    // A crash-looping release fails and is rolled back; the fix deploys right after the rollback.
    expect(output).toContain('(the automatic rollback of the bad release had to restore)')
    expect(output).toContain('(the fixed release reported)')
    // redeploy.yml pinned another digest, then rolled back to the deployed one; a deploy follows.
    expect(output).toContain('(the rollback (redeploy.yml) was asked for)')
    expect(output).toContain('(the deploy after the redeploys reported)')
    // The drifted workload is put back from the last successful deployment record, over OIDC.
    expect(output).toContain('(rollback-to: last-success (over OIDC) had to restore)')
    // GitHub's records of it all (the loopback REST API's state, checked by the script).
    expect(output).toMatch(
      /deployment records: \d+ for acme\/greeter; the pinned deploy's is in_progress then success with its environment and log URLs; the bad release's says "Rolled back"; the last is the rollback to the last success/
    )
  })
})
