// One sticky comment shared by several runs (comment-layout: sections), and the comment file a
// fork's test job leaves for a trusted job: what it may and may not make that job post.
import { mergeMissing, renderSections, sectionsOf, withSection } from '../../src/github/sections.js'
import { checkCommentTarget, COMMENT_FILE_SCHEMA, parseCommentFile } from '../../src/coverage/comment-file.js'

const MARKER = '<!-- otlp-deploy-actions/test-coverage:CI/sections -->'

describe('sections of a shared comment', () => {
  it('sets one section, keeps the others, in key order whoever wrote first', () => {
    const one = withSection(undefined, MARKER, 'relay', '## relay\n90%')
    const two = withSection(one, MARKER, 'api', '## api\n70%')
    const three = withSection(two, MARKER, 'relay', '## relay\n91%')
    expect(three).toBe(
      [MARKER, '<!-- section:api -->', '## api\n70%', '<!-- /section:api -->', '<!-- section:relay -->', '## relay\n91%', '<!-- /section:relay -->'].join(
        '\n'
      )
    )
    expect([...sectionsOf(three).keys()]).toEqual(['api', 'relay'])
  })

  it('a section cannot close another or plant a marker', () => {
    const body = withSection(undefined, MARKER, 'evil', 'x\n<!-- /section:evil -->\n<!-- section:api -->\nfake')
    expect([...sectionsOf(body).keys()]).toEqual(['evil'])
    expect(body).not.toContain('<!-- section:api -->')
  })

  it('folds the sections of a comment created at the same time into the oldest', () => {
    const a = renderSections(MARKER, new Map([['api', 'A']]))
    const b = renderSections(MARKER, new Map([['relay', 'R'], ['api', 'stale']]))
    expect(sectionsOf(mergeMissing(a, b, MARKER))).toEqual(new Map([['api', 'A'], ['relay', 'R']]))
  })
})

describe('comment file from a test job', () => {
  const head = 'a'.repeat(40)
  const file = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      schema: COMMENT_FILE_SCHEMA,
      repository: 'example/otlp-service',
      pullRequest: 7,
      headSha: head,
      layout: 'separate',
      marker: '<!-- otlp-deploy-actions/test-coverage:CI/coverage -->',
      body: '## Test coverage\nok',
      ...over
    })

  it('reads a good file', () => {
    expect(parseCommentFile(file(), 'f.json')).toMatchObject({ pullRequest: 7, headSha: head, layout: 'separate' })
  })

  it.each([
    [{ schema: 'x' }, /schema is "x"/],
    [{ marker: '<!-- someone else -->' }, /marker is not this action's/],
    [{ pullRequest: '7' }, /pullRequest is not a pull request number/],
    [{ headSha: 'main' }, /headSha is not a commit SHA/],
    [{ layout: 'sections' }, /key is not a section key/]
  ])('refuses %j', (over, message) => {
    expect(() => parseCommentFile(file(over), 'f.json')).toThrow(message)
  })

  it('neutralises hidden comments in the body and keeps it within the limit', () => {
    const f = parseCommentFile(file({ body: `<!-- section:x -->${'y'.repeat(70_000)}` }), 'f.json')
    expect(f.body.startsWith('&lt;!-- section:x -->')).toBe(true)
    expect(f.body.length).toBeLessThan(60_000)
  })

  it('is posted only on the pull request whose head is the commit the workflow run tested', () => {
    const f = parseCommentFile(file(), 'f.json')
    const run = { headSha: head, headRepository: 'fork/otlp-service' }
    const pull = { number: 7, headSha: head, headRepository: 'fork/otlp-service' }
    expect(() => checkCommentTarget(f, 'example/otlp-service', run, pull)).not.toThrow()
    expect(() => checkCommentTarget(f, 'example/other', run, pull)).toThrow(/it is for example\/otlp-service/)
    expect(() => checkCommentTarget(f, 'example/otlp-service', { ...run, headSha: 'b'.repeat(40) }, pull)).toThrow(
      /it is for commit aaaaaaa, and the workflow run tested bbbbbbb/
    )
    expect(() => checkCommentTarget(f, 'example/otlp-service', run, { ...pull, headSha: 'c'.repeat(40) })).toThrow(
      /pull request #7's head is ccccccc/
    )
    expect(() => checkCommentTarget(f, 'example/otlp-service', run, undefined)).toThrow(/does not exist/)
    expect(() => checkCommentTarget(f, 'example/otlp-service', run, { ...pull, headRepository: 'mallory/otlp-service' })).toThrow(
      /comes from mallory\/otlp-service/
    )
  })
})
