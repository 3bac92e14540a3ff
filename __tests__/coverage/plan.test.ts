import { coverageArgs, PlanError, testPlan } from '../../src/coverage/plan.js'
import { parseLintOutput } from '../../src/coverage/lint.js'
import { displayCommand } from '../../src/coverage/command.js'

describe('testPlan', () => {
  it('cargo with tarpaulin: lcov into target/tarpaulin, every test run, clippy and fmt as lint', () => {
    const plan = testPlan({ preset: 'cargo', command: undefined, lint: true }, { cargoTool: 'tarpaulin', toolBinDir: '/tools/bin' })
    expect(displayCommand(plan.test)).toBe('cargo tarpaulin --skip-clean --no-fail-fast --out Lcov --output-dir target/tarpaulin')
    expect(plan.test.env!.PATH!.startsWith('/tools/bin:')).toBe(true)
    expect(plan.coverageGlobs).toEqual(['target/tarpaulin/lcov.info'])
    expect(plan.lint.map(displayCommand)).toEqual(['cargo clippy --message-format=short -- -D warnings', 'cargo fmt -- --check'])
    expect(plan.libtestOutput).toBe(true)
  })

  it('cargo prefers cargo-llvm-cov when it is there', () => {
    const plan = testPlan({ preset: 'cargo', command: undefined, lint: false }, { cargoTool: 'llvm-cov' })
    expect(displayCommand(plan.test)).toBe('cargo llvm-cov --no-fail-fast --lcov --output-path target/llvm-cov/lcov.info')
    expect(plan.lint).toEqual([])
  })

  it('a command overrides the preset and runs through bash like a run: step', () => {
    const plan = testPlan({ preset: 'cargo', command: 'cargo llvm-cov nextest --lcov --output-path lcov.info', lint: false }, {})
    expect(plan.test.command).toBe('bash')
    expect(plan.test.args).toEqual(['-eo', 'pipefail', '-c', 'cargo llvm-cov nextest --lcov --output-path lcov.info'])
  })

  it('npm installs with npm ci when node_modules is missing and asks jest for lcov', () => {
    const plan = testPlan(
      { preset: 'npm', command: undefined, lint: true },
      { packageJson: { scripts: { test: 'jest', lint: 'eslint .' }, devDependencies: { jest: '1' } }, hasPackageLock: true, hasNodeModules: false }
    )
    expect(plan.install.map(displayCommand)).toEqual(['npm ci --no-audit --no-fund'])
    expect(displayCommand(plan.test)).toMatch(/^npm test -- --coverage --coverageReporters=lcov/)
    expect(plan.lint.map(displayCommand)).toEqual(['npm run lint'])
  })

  it('npm without a test script or without a lint script says so', () => {
    expect(() => testPlan({ preset: 'npm', command: undefined, lint: false }, { packageJson: {} })).toThrow(new PlanError('package.json has no "test" script'))
    expect(() => testPlan({ preset: 'npm', command: undefined, lint: true }, { packageJson: { scripts: { test: 'x' } } })).toThrow(
      'lint is true but package.json has no "lint" script'
    )
  })

  it.each([
    ['jest --ci', '--coverage'],
    ['vitest run', '--coverage.enabled=true'],
    ['node --test --experimental-test-coverage', undefined]
  ])('coverage arguments for %j', (script, first) => {
    expect(coverageArgs(script)[1]).toBe(first)
  })
})

describe('parseLintOutput', () => {
  it('reads clippy short diagnostics and rustfmt diff headers', () => {
    const out = [
      '    Checking sample v0.1.0',
      'src/lib.rs:12:5: error: this `if` has identical blocks',
      'src/main.rs:3:9: warning[E0001]: unused variable: `x`',
      'error: could not compile `sample` (lib) due to 1 previous error',
      'Diff in /ws/crate/src/lib.rs:40:',
      'Diff in /ws/crate/src/old.rs at line 7:'
    ].join('\n')
    expect(parseLintOutput(out)).toEqual([
      { file: 'src/lib.rs', line: 12, level: 'error', message: 'this `if` has identical blocks' },
      { file: 'src/main.rs', line: 3, level: 'warning', message: 'unused variable: `x`' },
      { file: '/ws/crate/src/lib.rs', line: 40, level: 'error', message: 'not formatted as rustfmt would (cargo fmt)' },
      { file: '/ws/crate/src/old.rs', line: 7, level: 'error', message: 'not formatted as rustfmt would (cargo fmt)' }
    ])
  })
})
