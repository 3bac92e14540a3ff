import * as md from '../../src/runtime/markdown.js'
import { formatDuration } from '../../src/runtime/duration.js'
import { fitSummary } from '../../src/runtime/summary.js'

describe('markdown', () => {
  it('builds a table with aligned columns and escaped cells', () => {
    expect(
      md.table(
        ['file', 'lines'],
        [
          ['a|b.ts', 90.5],
          ['c\nd', undefined]
        ],
        ['left', 'right']
      )
    ).toBe('| file | lines |\n| --- | ---: |\n| a\\|b.ts | 90.5 |\n| c<br>d |  |\n')
  })
  it('wraps a collapsible section with a blank line so GitHub renders its markdown', () => {
    expect(md.details('Files <3>', '| a |')).toBe(
      '<details><summary>Files &lt;3&gt;</summary>\n\n| a |\n\n</details>\n'
    )
  })
  it('fences code that itself contains a fence', () => {
    expect(md.codeBlock('```x```')).toBe('````\n```x```\n````\n')
  })
  it('joins sections, dropping empty ones', () => {
    expect(md.join(md.heading('A'), undefined, false, 'text')).toBe('## A\n\ntext\n')
  })
})

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [1500, '1.5s'],
    [125_000, '2m5s'],
    [5_400_000, '1h30m']
  ])('%d ms reads %s', (ms, text) => expect(formatDuration(ms)).toBe(text))
})

describe('fitSummary keeps a step summary within GitHub’s 1 MiB', () => {
  it('passes a summary that fits, cuts one that does not at a line and says so', () => {
    expect(fitSummary('short', 0, 100)).toBe('short')
    const long = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n')
    const cut = fitSummary(long, 0, 300)
    expect(Buffer.byteLength(cut) + 1).toBeLessThanOrEqual(300)
    expect(cut).toMatch(/^line 0\nline 1\n/)
    expect(cut).toContain('Summary truncated')
    // What was already written counts against the limit.
    expect(fitSummary(long, 250, 300)).toBe('')
  })
  it('closes a code block it cut open so the note is not swallowed', () => {
    const text = 'head\n```\n' + 'x'.repeat(40).concat('\n').repeat(20) + '```\n'
    const cut = fitSummary(text, 0, 400)
    expect(cut).toMatch(/```\n\n> ✂️ \*\*Summary truncated\*\*/)
  })
})
