import { jest } from '@jest/globals'
import { run } from '../../src/runtime/exec.js'
import { ActionError } from '../../src/runtime/errors.js'

jest.spyOn(process.stdout, 'write').mockImplementation(() => true)

describe('run', () => {
  it('passes arguments verbatim, never through a shell', async () => {
    const result = await run('printf', ['%s|', '$(echo injected)', 'a b', ';rm -rf /'], { silent: true })
    expect(result.stdout).toBe('$(echo injected)|a b|;rm -rf /|')
  })
  it('feeds standard input (how passwords reach --password-stdin)', async () => {
    const result = await run('cat', [], { input: 'secret-from-stdin', silent: true })
    expect(result.stdout).toBe('secret-from-stdin')
  })
  it('throws an ActionError with the tail of stderr on failure', async () => {
    const failure = run('sh', ['-c', 'echo first >&2; echo last >&2; exit 3'], { silent: true })
    await expect(failure).rejects.toBeInstanceOf(ActionError)
    await expect(failure).rejects.toMatchObject({
      message: expect.stringMatching(/exit code 3/),
      details: ['first', 'last']
    })
  })
  it('returns the exit code when failure is allowed', async () => {
    const result = await run('sh', ['-c', 'exit 4'], { silent: true, allowFailure: true })
    expect(result.exitCode).toBe(4)
  })
  it('names a missing program', async () => {
    await expect(run('no-such-program-xyz', [], { silent: true })).rejects.toThrow(/no-such-program-xyz/)
  })
})
