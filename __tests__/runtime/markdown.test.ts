import * as md from '../../src/runtime/markdown.js'
import { formatDuration } from '../../src/runtime/duration.js'

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
