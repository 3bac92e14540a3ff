// Every action, run through the runner-faithful harness with a bad input, fails before doing
// anything, and its message names the input, the value and the accepted forms.
import { runAction, ACTION_FILES, loadActionMetadata } from './harness/runner.js'

describe.each(Object.keys(ACTION_FILES).filter(a => 'timeout' in loadActionMetadata(a).inputs))(
  '%s with timeout: soon',
  action => {
    it('fails naming the input and the accepted forms', async () => {
      const run = await runAction({ action, inputs: { timeout: 'soon' }, timeoutMs: 30_000 })
      expect(run.exitCode).toBe(1)
      const errors = run.annotations.filter(a => a.level === 'error').map(a => a.message)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(/timeout: "soon" is not a duration; use a form like 90s, 5m/)
      expect(errors[0]).toMatch(/Nothing was changed/)
      expect(run.outputs).toEqual({})
    })
  }
)
