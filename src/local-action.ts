/**
 * Entry point for `@github/local-action`, which imports a module and calls its `run()`.
 * OTLP_ACTION names the action to run (rollout, image-build, test-coverage, deploy); see CONTRIBUTING.md.
 */
import { runAction } from './runtime/index.js'

export async function run(): Promise<void> {
  const name = process.env.OTLP_ACTION ?? ''
  if (!/^(rollout|image-build|test-coverage|deploy)$/.test(name)) {
    throw new Error(`set OTLP_ACTION to rollout, image-build, test-coverage or deploy (got "${name}")`)
  }
  const { main } = (await import(`./actions/${name}/main.js`)) as { main: () => Promise<void> }
  await runAction(main)
}
