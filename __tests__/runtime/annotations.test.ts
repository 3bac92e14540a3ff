import { withinBudget } from '../../src/runtime/annotations.js'

describe('annotations within what GitHub shows (10 of a level per step)', () => {
  const errors = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ level: 'error' as const, message: `e${i + 1}` }))
  it('keeps all of a level when they fit', () => {
    expect(withinBudget(errors(10), 'see the summary').map(a => a.message)).toEqual(
      errors(10).map(a => a.message)
    )
  })
  it('keeps 9 and says how many more there are, per level', () => {
    const out = withinBudget(
      [...errors(25), { level: 'warning', message: 'w1' }],
      'the failed tests are listed in the job summary'
    )
    expect(out.filter(a => a.level === 'error')).toHaveLength(10)
    expect(out.filter(a => a.level === 'error').at(-1)?.message).toBe(
      '16 more errors are not shown as annotations (GitHub shows 10 per step): the failed tests are listed in the job summary'
    )
    expect(out.filter(a => a.level === 'warning').map(a => a.message)).toEqual(['w1'])
  })
  it('leaves room for what the caller reserves (the error that fails the step)', () => {
    const out = withinBudget(errors(25), 'see the summary', { error: 1 })
    expect(out).toHaveLength(9)
    expect(out.at(-1)?.message).toMatch(/^17 more errors are not shown/)
  })
})
