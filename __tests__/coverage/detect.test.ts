import { parseCoverage } from '../../src/coverage/detect.js'

describe('parseCoverage recognises the format by content', () => {
  it.each([
    ['TN:\nSF:a.rs\nDA:1,1\nend_of_record\n', 'lcov'],
    ['\uFEFFSF:a.rs\nDA:1,1\nend_of_record\n', 'lcov'],
    ['<?xml version="1.0"?>\n<!DOCTYPE coverage SYSTEM "x.dtd">\n<coverage line-rate="1"><packages/></coverage>', 'cobertura'],
    ['{"files":[{"path":["/","a.rs"],"traces":[{"line":1,"stats":{"Line":1}}]}]}', 'tarpaulin-json'],
    ['{"total":{"lines":{"total":1,"covered":1}},"/a.ts":{"lines":{"total":2,"covered":1},"branches":{"total":0,"covered":0},"functions":{"total":1,"covered":1}}}', 'istanbul-summary'],
    ['{"schema":"otlp-deploy-actions/coverage@1","sha":"abc","files":[]}', 'stored']
  ])('%#: %s', (text, format) => {
    expect(parseCoverage(text, 'r').format).toBe(format)
  })

  it.each([
    ['', 'r:1: is empty; expected a coverage report'],
    ['<testsuites><testsuite/></testsuites>', 'r:1: is a JUnit test report, not coverage'],
    ['<html><body/></html>', 'r:1: is XML without a <coverage> root'],
    ['{"a.ts":{"statementMap":{}}}', "r:1: is istanbul's detailed coverage-final.json, which is not read"],
    ['{"x": 1}', 'r:1: is JSON that is neither'],
    ['{"files": [1,\n2,\n}', 'r:3: is not valid JSON'],
    ['hello world\n', 'r:1: is not a coverage report in a known format (lcov, Cobertura XML, JaCoCo XML, Go cover profile, tarpaulin JSON, istanbul json-summary); it starts with "hello world"']
  ])('%#: rejects %j naming the file and line', (text, message) => {
    expect(() => parseCoverage(text, 'r')).toThrow(message)
  })

  it('reports malformed XML at its line', () => {
    expect(() => parseCoverage('<coverage>\n<packages>\n<package>\n</coverage>', 'cov.xml')).toThrow(/^cov.xml:4: is not well-formed XML/)
  })

  it('reports a bad Cobertura line element at its line', () => {
    const xml = '<coverage>\n<packages><package><classes>\n<class filename="a.rs"><lines>\n<line number="1" hits="1"/>\n<line number="2" hits="lots"/>\n</lines></class></classes></package></packages></coverage>'
    expect(() => parseCoverage(xml, 'cov.xml')).toThrow('cov.xml:5: <line number="2" hits="lots">: number and hits must be counts')
  })

  it('reports an istanbul entry without counts', () => {
    expect(() => parseCoverage('{"total":{"lines":{}},\n"/a.ts":{"lines":{"total":2}}}', 's.json')).toThrow(
      's.json:2: /a.ts: "lines" needs numeric "total" and "covered"'
    )
  })
})
