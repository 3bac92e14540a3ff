/** buildImage's checks that happen before any builder runs (no tools needed). */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildImage, preflight } from '../../src/image/build.js'
import { readImageBuildConfig } from '../../src/image/config.js'
import { Inputs } from '../../src/runtime/inputs.js'
import { ActionError } from '../../src/runtime/errors.js'
import { eventEnv, eventPayload } from './events.js'

function config(values: Record<string, string>) {
  const defaults: Record<string, string> = {
    images: 'ghcr.io/example/app',
    flavor: 'latest=auto',
    push: 'true',
    builder: 'buildx',
    timeout: '30m'
  }
  const inputs = new Inputs(name => ({ ...defaults, ...values })[name] ?? '')
  const c = readImageBuildConfig(inputs)
  inputs.done()
  return c
}

const workspace = mkdtempSync(join(tmpdir(), 'build-test-'))
mkdirSync(join(workspace, 'app'))
writeFileSync(join(workspace, 'app', 'Dockerfile'), 'FROM busybox\n')

describe('before building', () => {
  it('refuses to push when the rules give no tag for this event, saying why', async () => {
    const err = await buildImage(config({ context: 'app', tags: 'type=semver,pattern={{version}}' }), {
      env: eventEnv('pull_request'),
      payload: eventPayload('pull_request'),
      workspace
    }).catch(e => e as ActionError)
    expect(err).toBeInstanceOf(ActionError)
    expect((err as ActionError).message).toBe(
      'No tags to push: the tag rules produce nothing for this event (pull_request on refs/pull/15/merge)'
    )
    expect((err as ActionError).details).toEqual([
      'type=semver,pattern={{version}}: refs/pull/15/merge is not a tag'
    ])
  })

  it('names a missing context and a missing Dockerfile', () => {
    expect(() => preflight(config({ context: 'nope' }), workspace)).toThrow(
      `The build context nope does not exist (looked for ${join(workspace, 'nope')})`
    )
    expect(() => preflight(config({ context: 'app', file: 'app/Containerfile' }), workspace)).toThrow(
      `Dockerfile not found: app/Containerfile (looked for ${join(workspace, 'app/Containerfile')})`
    )
    expect(preflight(config({ context: 'app' }), workspace)).toEqual({
      context: join(workspace, 'app'),
      file: join(workspace, 'app/Dockerfile')
    })
  })

  it('does not look for a Git context on disk', () => {
    expect(preflight(config({ context: 'https://github.com/example/app.git#main' }), workspace).context).toBe(
      'https://github.com/example/app.git#main'
    )
  })

  it('reports an expression error in a rule as a tags problem', async () => {
    const err = await buildImage(
      config({ context: 'app', tags: "type=raw,value={{date 'YYYY' tz='Mars/Olympus'}}" }),
      {
        env: eventEnv('push_main'),
        payload: eventPayload('push_main'),
        workspace
      }
    ).catch(e => e as ActionError)
    expect((err as ActionError).message).toMatch(
      /^Tags and labels: tag rule .*tz='Mars\/Olympus' is not a time zone/
    )
  })
})
