import { shellStep, type CommandStep } from './command.js'

/** The pinned cargo-tarpaulin, installed with `cargo install --locked` when no coverage tool is found. */
export const TARPAULIN_VERSION = '0.37.5'
/** cargo-nextest, used by the fixture script for real JUnit from cargo tests (not by the action). */
export const NEXTEST_VERSION = '0.9.151'

export type CargoCoverageTool = 'llvm-cov' | 'tarpaulin'

/** What the adapters found out about the project and the machine; the plan is a pure function of it. */
export interface ProjectFacts {
  cargoTool?: CargoCoverageTool
  /** Directory to put in front of PATH so that `cargo tarpaulin` finds a cached install. */
  toolBinDir?: string
  packageJson?: { scripts?: Record<string, string>; dependencies?: object; devDependencies?: object }
  hasNodeModules?: boolean
  hasPackageLock?: boolean
}

export interface TestPlan {
  install: CommandStep[]
  test: CommandStep
  lint: CommandStep[]
  /** Used when the coverage-files input is empty. */
  coverageGlobs: string[]
  junitGlobs: string[]
  /** Whether the test output is libtest's (cargo), to be parsed when there is no JUnit report. */
  libtestOutput: boolean
}

export interface PlanOptions {
  preset: 'cargo' | 'npm' | 'custom'
  command: string | undefined
  lint: boolean
}

export class PlanError extends Error {}

const TARPAULIN_DIR = 'target/tarpaulin'
const LLVM_COV_FILE = 'target/llvm-cov/lcov.info'

export function testPlan(options: PlanOptions, facts: ProjectFacts): TestPlan {
  switch (options.preset) {
    case 'cargo':
      return cargoPlan(options, facts)
    case 'npm':
      return npmPlan(options, facts)
    case 'custom':
      if (!options.command) throw new PlanError('preset custom needs a command')
      return {
        install: [],
        test: shellStep('custom command', options.command),
        lint: [],
        coverageGlobs: [],
        junitGlobs: [],
        libtestOutput: true
      }
  }
}

function cargoPlan(options: PlanOptions, facts: ProjectFacts): TestPlan {
  const tool = facts.cargoTool ?? 'tarpaulin'
  const env: Record<string, string> = { CARGO_TERM_COLOR: 'never' }
  if (facts.toolBinDir) env.PATH = `${facts.toolBinDir}:${process.env.PATH ?? '/usr/bin:/bin'}`
  const test: CommandStep = options.command
    ? { ...shellStep('test command', options.command), env }
    : tool === 'llvm-cov'
      ? {
          name: 'cargo llvm-cov',
          command: 'cargo',
          args: ['llvm-cov', '--no-fail-fast', '--lcov', '--output-path', LLVM_COV_FILE],
          env
        }
      : {
          name: 'cargo tarpaulin',
          command: 'cargo',
          // --skip-clean keeps target/ (and its cache) warm; --no-fail-fast runs every test so
          // that every failure is annotated, and the report is still written.
          args: ['tarpaulin', '--skip-clean', '--no-fail-fast', '--out', 'Lcov', '--output-dir', TARPAULIN_DIR],
          env
        }
  const lint: CommandStep[] = options.lint
    ? [
        {
          name: 'cargo clippy',
          command: 'cargo',
          args: ['clippy', '--message-format=short', '--', '-D', 'warnings'],
          env
        },
        { name: 'cargo fmt', command: 'cargo', args: ['fmt', '--', '--check'], env }
      ]
    : []
  return {
    install: [],
    test,
    lint,
    coverageGlobs: [tool === 'llvm-cov' ? LLVM_COV_FILE : `${TARPAULIN_DIR}/lcov.info`],
    junitGlobs: [],
    libtestOutput: true
  }
}

function npmPlan(options: PlanOptions, facts: ProjectFacts): TestPlan {
  const pkg = facts.packageJson
  if (!pkg) throw new PlanError('there is no package.json in the working directory')
  const scripts = pkg.scripts ?? {}
  const hasDeps = Object.keys(pkg.dependencies ?? {}).length + Object.keys(pkg.devDependencies ?? {}).length > 0
  const install: CommandStep[] =
    facts.hasNodeModules || !hasDeps
      ? []
      : [
          facts.hasPackageLock
            ? { name: 'npm ci', command: 'npm', args: ['ci', '--no-audit', '--no-fund'] }
            : { name: 'npm install', command: 'npm', args: ['install', '--no-audit', '--no-fund'] }
        ]
  let test: CommandStep
  if (options.command) test = shellStep('test command', options.command)
  else {
    const script = scripts.test
    if (!script) throw new PlanError('package.json has no "test" script')
    test = { name: 'npm test', command: 'npm', args: ['test', ...coverageArgs(script)] }
  }
  const lint: CommandStep[] = []
  if (options.lint) {
    if (!scripts.lint) throw new PlanError('lint is true but package.json has no "lint" script')
    lint.push({ name: 'npm run lint', command: 'npm', args: ['run', 'lint'] })
  }
  test.env = { ...(test.env ?? {}), FORCE_COLOR: '0' }
  return { install, test, lint, coverageGlobs: ['coverage/lcov.info'], junitGlobs: [], libtestOutput: false }
}

/**
 * Arguments that make a test script write lcov to coverage/: jest and vitest take them on the
 * command line; other runners (node --test, c8, nyc) are expected to be configured in the script.
 */
export function coverageArgs(script: string): string[] {
  if (/\bjest\b/.test(script)) {
    return ['--', '--coverage', '--coverageReporters=lcov', '--coverageReporters=text-summary', '--coverageDirectory=coverage']
  }
  if (/\bvitest\b/.test(script)) {
    return ['--', '--coverage.enabled=true', '--coverage.reporter=lcov', '--coverage.reporter=text-summary', '--coverage.reportsDirectory=coverage']
  }
  return []
}
