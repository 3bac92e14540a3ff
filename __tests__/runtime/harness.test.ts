import { execFileSync } from 'node:child_process'
import { nodeFor, parseFileCommand, interpretLog } from '../harness/runner.js'

describe('the harness reads the runner file commands', () => {
  it('parses name=value and name<<DELIMITER blocks', () => {
    const text = 'result=success\nreport<<ghadelimiter_1\nline 1\nline=2\nghadelimiter_1\nempty=\n'
    expect(parseFileCommand(text)).toEqual({ result: 'success', report: 'line 1\nline=2', empty: '' })
  })
  it('refuses an unclosed block rather than guessing', () => {
    expect(() => parseFileCommand('x<<EOF\nvalue\n')).toThrow(/never closed/)
  })
  it('masks registered secrets, longest first, and collects annotations', () => {
    const raw =
      '::add-mask::s3cret\n::add-mask::s3cret-longer\nusing s3cret-longer and s3cret\n::error file=a.ts,line=3::boom%0Anext'
    const { log, masks, annotations } = interpretLog(raw)
    expect(masks).toEqual(['s3cret', 's3cret-longer'])
    expect(log).toContain('using *** and ***')
    expect(annotations).toEqual([
      { level: 'error', message: 'boom\nnext', properties: { file: 'a.ts', line: '3' } }
    ])
  })
})

describe('the harness runs a bundle on the runtime its action.yml declares', () => {
  it('gives node24 a Node 24 binary and refuses a runtime it does not have', () => {
    const bin = nodeFor('node24')
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).toMatch(/^v24\./)
    expect(() => nodeFor('node12')).toThrow(/declares node12, but this is Node .* has no Node 12/)
    expect(() => nodeFor('docker')).toThrow(/not a Node runtime/)
  })
})
