// The shared entry point's two phases: the runner runs an action's bundle as `runs.main`, then
// (when action.yml names it) again as `runs.post` at the end of the job with the state main saved.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../src/runtime/action.js'

const PHASE = 'STATE_otlp-deploy-actions-phase'

describe('runAction phases', () => {
  const saved = { ...process.env }
  let stateFile: string
  beforeEach(() => {
    stateFile = join(mkdtempSync(join(tmpdir(), 'state-')), 'state')
    writeFileSync(stateFile, '')
    process.env.GITHUB_STATE = stateFile
    delete process.env[PHASE]
  })
  afterEach(() => {
    process.env = { ...saved }
  })

  it('runs main, and saves the state that makes the next run of the bundle the post phase', async () => {
    const ran: string[] = []
    await runAction(
      async () => void ran.push('main'),
      async () => void ran.push('post')
    )
    expect(ran).toEqual(['main'])
    expect(readFileSync(stateFile, 'utf8')).toContain('otlp-deploy-actions-phase')
  })

  it('runs post, not main, when the runner passes that state back', async () => {
    process.env[PHASE] = 'post'
    const ran: string[] = []
    await runAction(
      async () => void ran.push('main'),
      async () => void ran.push('post')
    )
    expect(ran).toEqual(['post'])
  })

  it('saves no phase for an action without a post phase', async () => {
    const ran: string[] = []
    await runAction(async () => void ran.push('main'))
    expect(ran).toEqual(['main'])
    expect(readFileSync(stateFile, 'utf8')).toBe('')
  })
})
