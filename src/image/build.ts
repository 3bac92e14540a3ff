/**
 * buildImage: metadata → preflight → builder set-up (QEMU, buildx builder) → log-in → build and
 * push → digest from the builder's own metadata → sizes from the pushed manifests.
 * The single entry point shared by the image-build action and the one-step deploy action.
 */
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { ActionError, formatDuration, lastLines } from '../runtime/index.js'
import type { ImageBuildConfig } from './config.js'
import {
  type CacheUse,
  type FailedStep,
  buildahCacheUse,
  buildahFailedStep,
  buildxCacheUse,
  buildxFailedStep
} from './build-log.js'
import { buildahBuildArgs, buildahLoginArgs, buildahPushArgs, withLabelInstruction } from './buildah.js'
import {
  type BuilderInfo,
  buildxBuildArgs,
  buildxCreateArgs,
  chooseBuilder,
  parseBuildxInspect,
  parseBuildxMetadata
} from './buildx.js'
import { gitContextFrom } from './metadata/context.js'
import { type ImageMetadata, computeMetadata } from './metadata/metadata.js'
import { RuleError } from './metadata/rules.js'
import { type ToolResult, runTool } from './process.js'
import { type QemuResult, emulatorsNeeded, ensureEmulators } from './qemu.js'
import { type PlatformSize, RegistryClient, RegistryError, inspectPushed } from './registry.js'
import { formatPlatform, hostPlatform, normaliseRegistry, parseImageName, registryHost } from './reference.js'
import type { BuildRequest } from './request.js'

/** What BuildKit's gha cache exporter reads from the environment. */
const GHA_CACHE_ENV = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_CACHE_URL', 'ACTIONS_RESULTS_URL']

export type BuilderKind = 'buildx' | 'buildah'

export interface BuildImageResult {
  builder: BuilderKind
  /** The buildx builder's name, or the buildah manifest list's. */
  builderName: string
  metadata: ImageMetadata
  digest: string
  imageRef: string
  platforms: string[]
  sizes: PlatformSize[]
  cache: CacheUse
  qemu: QemuResult
  loggedIn: string | undefined
  buildMs: number
  totalMs: number
  /** Each phase (builder set-up, log-in, build, push, manifest read-back) and its duration. */
  timings: PhaseTiming[]
  warnings: string[]
}

export interface PhaseTiming {
  phase: string
  ms: number
}

export interface BuildImageOptions {
  /** The runner's environment (GITHUB_*, RUNNER_TEMP, DOCKER_CONFIG, BUILDX_BUILDER, ...). */
  env?: Record<string, string | undefined>
  /** The event payload (GITHUB_EVENT_PATH's content). */
  payload?: Record<string, unknown>
  now?: Date
  /** Aborts the running builder (the step's timeout). */
  signal?: AbortSignal
  /** Where relative context and file paths start (GITHUB_WORKSPACE). */
  workspace?: string
  log?: (line: string) => void
  /** Runs a phase inside a log group. */
  group?: <T>(name: string, fn: () => Promise<T>) => Promise<T>
  /** Told the name of a buildx builder as soon as this build has created it (for the post step). */
  onBuilderCreated?: (name: string) => void
}

/** A build step failed: the step and its last lines, for the log and the summary. */
export class BuildFailure extends ActionError {
  constructor(
    readonly builder: BuilderKind,
    readonly failed: FailedStep | undefined,
    exitCode: number
  ) {
    super(
      failed
        ? `The image build failed at ${failed.step}: ${failed.error}`
        : `The image build failed (${builder} exited with code ${exitCode})`,
      {
        hint: 'The failing step and its last output lines are in the job summary; fix the Dockerfile or the code it builds.',
        details: failed ? [`step: ${failed.step}`, ...failed.lines.map(l => `  ${l}`)] : []
      }
    )
    this.name = 'BuildFailure'
  }
}

const isRemoteContext = (context: string) =>
  /^(?:https?:\/\/|git@|github\.com\/)|\.git(?:#.*)?$/.test(context)

/** The inputs that are files must exist before anything starts. */
export function preflight(config: ImageBuildConfig, workspace: string): { context: string; file: string } {
  if (isRemoteContext(config.context)) return { context: config.context, file: config.file }
  const context = isAbsolute(config.context) ? config.context : resolve(workspace, config.context)
  if (!existsSync(context) || !statSync(context).isDirectory()) {
    throw new ActionError(`The build context ${config.context} does not exist (looked for ${context})`, {
      hint: 'Set the context input to a directory of the checked-out repository (did the job run actions/checkout?).'
    })
  }
  const file = isAbsolute(config.file) ? config.file : resolve(workspace, config.file)
  if (!existsSync(file)) {
    throw new ActionError(`Dockerfile not found: ${config.file} (looked for ${file})`, {
      hint: 'Set the file input to the Dockerfile path relative to the workspace, or put a Dockerfile in the context directory.'
    })
  }
  return { context, file }
}

function authFailure(registry: string, username: string, result: ToolResult): ActionError | undefined {
  const text = `${result.stderr}\n${result.stdout}`
  const refused =
    /unauthori[sz]ed|invalid username|incorrect username|authentication required|denied|\b401\b|bad credentials/i
  if (!refused.test(text)) return undefined
  const message = username
    ? `Registry ${registry} rejected the credentials of user ${JSON.stringify(username)}`
    : "A registry refused access while pulling or pushing (no username input was given, so the runner's existing credentials were used)"
  return new ActionError(message, {
    hint: username
      ? 'Check the username and password inputs (a token needs push rights to the repository). The password is never shown.'
      : 'Give username and password (or log in before this step) for the registries the build pulls from and pushes to.',
    details: text
      .trim()
      .split('\n')
      .filter(l => l.trim())
      .slice(-3)
  })
}

/** A private DOCKER_CONFIG: the user's files linked, its config.json copied, so a log-in ends with the step. */
function privateDockerConfig(env: Record<string, string | undefined>, dir: string): string {
  const source = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker')
  const target = join(dir, 'docker-config')
  mkdirSync(target, { recursive: true })
  // buildx keeps its builders under buildx/: link it so builders created here outlive the step.
  mkdirSync(join(source, 'buildx'), { recursive: true })
  for (const entry of readdirSync(source)) {
    if (entry === 'config.json') continue
    symlinkSync(join(source, entry), join(target, entry))
  }
  const config = join(source, 'config.json')
  if (existsSync(config)) copyFileSync(config, join(target, 'config.json'))
  else writeFileSync(join(target, 'config.json'), '{}\n')
  chmodSync(join(target, 'config.json'), 0o600)
  return target
}

/** Reads the `auths` of a docker or containers auth file; nothing when it is absent or unreadable. */
function authsOf(file: string | undefined): Record<string, unknown> {
  if (!file || !existsSync(file)) return {}
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, unknown> }
    return data.auths && typeof data.auths === 'object' ? data.auths : {}
  } catch {
    return {}
  }
}

/**
 * A private containers auth file for buildah: the runner's docker log-ins, overridden by its
 * containers log-ins (with --authfile, buildah looks nowhere else).
 */
function privateAuthFile(env: Record<string, string | undefined>, dir: string): string {
  const target = join(dir, 'containers-auth.json')
  const dockerConfig = join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json')
  const containers =
    env.REGISTRY_AUTH_FILE ||
    (env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'containers/auth.json') : undefined)
  const auths = { ...authsOf(dockerConfig), ...authsOf(containers) }
  writeFileSync(target, JSON.stringify({ auths }, null, 2) + '\n', { mode: 0o600 })
  return target
}

async function resolveBuilder(config: ImageBuildConfig, env: Record<string, string>): Promise<BuilderKind> {
  if (config.builder !== 'auto') return config.builder
  const buildx = await runTool('docker', ['buildx', 'version'], { env, quiet: true }).catch(() => undefined)
  if (buildx?.exitCode === 0) return 'buildx'
  const buildah = await runTool('buildah', ['--version'], { env, quiet: true }).catch(() => undefined)
  if (buildah?.exitCode === 0) return 'buildah'
  throw new ActionError(
    'No image builder found: neither `docker buildx` nor `buildah` works on this runner',
    {
      hint: 'Install Docker with the buildx plug-in, or buildah, or set builder: to the one you have.'
    }
  )
}

export async function buildImage(
  config: ImageBuildConfig,
  options: BuildImageOptions = {}
): Promise<BuildImageResult> {
  const started = Date.now()
  const env = { ...(options.env ?? process.env) }
  const log = options.log ?? (() => undefined)
  const group = options.group ?? (<T>(_: string, fn: () => Promise<T>) => fn())
  const timings: PhaseTiming[] = []
  // Every phase runs in a log group and is timed for the summary and the benchmark.
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now()
    try {
      return await group(name, fn)
    } finally {
      timings.push({ phase: name, ms: Date.now() - t0 })
    }
  }
  const workspace = options.workspace ?? env.GITHUB_WORKSPACE ?? process.cwd()
  const warnings: string[] = []

  let metadata: ImageMetadata
  try {
    metadata = computeMetadata(gitContextFrom(env, options.payload ?? {}, options.now ?? new Date()), {
      images: config.images,
      tags: config.tagRules,
      flavor: config.flavor,
      labels: config.labels
    })
  } catch (err) {
    if (err instanceof RuleError)
      throw new ActionError(`Tags and labels: ${err.message}`, {
        hint: 'Fix the tags, flavor, labels or images input.'
      })
    throw err
  }
  for (const note of metadata.notes) log(`tag rule skipped: ${note}`)
  if (config.push && metadata.tags.length === 0) {
    throw new ActionError(
      `No tags to push: the tag rules produce nothing for this event (${env.GITHUB_EVENT_NAME ?? 'unknown event'} on ${env.GITHUB_REF ?? 'unknown ref'})`,
      {
        hint: 'Add a rule that applies to this event (type=sha always does), or set push: false for this event.',
        details: metadata.notes
      }
    )
  }
  const paths = preflight(config, workspace)
  const platforms = config.platforms.map(formatPlatform)
  const firstImage = parseImageName(metadata.images[0] ?? '')

  const cleanEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined) cleanEnv[k] = v
  const kind = await resolveBuilder(config, cleanEnv)
  if (kind === 'buildah') {
    const unsupported = [...config.cacheFrom, ...config.cacheTo].find(s => s.type !== 'registry')
    if (unsupported) {
      throw new ActionError(`buildah can only use registry caches, not type=${unsupported.type}`, {
        hint: 'Use builder: buildx for gha or local caches, or a type=registry cache.'
      })
    }
  }

  const dir = mkdtempSync(
    join(env.RUNNER_TEMP && existsSync(env.RUNNER_TEMP) ? env.RUNNER_TEMP : tmpdir(), 'image-build-')
  )
  chmodSync(dir, 0o700)
  try {
    const secretFiles = [...config.secrets].map(([id, value], i) => {
      const path = join(dir, `secret-${i}`)
      writeFileSync(path, value, { mode: 0o600 })
      return { id, path }
    })
    const request: BuildRequest = {
      context: paths.context,
      file: paths.file,
      tags: metadata.tags,
      labels: metadata.labels,
      platforms,
      push: config.push,
      buildArgs: [...config.buildArgs],
      secretFiles,
      cacheFrom: config.cacheFrom,
      cacheTo: config.cacheTo,
      provenance: config.provenance,
      sbom: config.sbom,
      noCache: config.noCache,
      target: config.target
    }
    const registry = config.registry
      ? normaliseRegistry(config.registry)
      : firstImage
        ? registryHost(firstImage)
        : 'docker.io'
    const toolEnv = { ...cleanEnv }
    /** Logs the builder in: the password only through standard input, the credentials in `keptIn`. */
    const logIn = (tool: string, args: string[], keptIn: string): Promise<void> =>
      phase(`Log in to ${registry}`, async () => {
        const login = await runTool(tool, args, {
          env: toolEnv,
          input: config.password,
          quiet: true,
          signal: options.signal
        })
        if (login.exitCode !== 0) {
          throw (
            authFailure(registry, config.username, login) ??
            new ActionError(`${tool} login to ${registry} failed`, {
              details: login.output.trim().split('\n').slice(-3)
            })
          )
        }
        log(
          `logged in to ${registry} as ${config.username} (credentials kept in ${keptIn} for this step only)`
        )
      })

    // Emulation is checked on this machine unless buildx talks to a BuildKit elsewhere (tcp://).
    const endpoint = config.buildkitEndpoint || cleanEnv.BUILDKIT_HOST || ''
    const host = hostPlatform()
    let qemu: QemuResult = { needed: [], registered: [] }
    const needed = emulatorsNeeded(config.platforms, host.architecture)

    let result: ToolResult
    let builderName: string
    let digest = ''
    let buildMs = 0
    let cache: CacheUse
    if (kind === 'buildx') {
      toolEnv.DOCKER_CONFIG = privateDockerConfig(cleanEnv, dir)
      const requested = config.buildxBuilder || cleanEnv.BUILDX_BUILDER || ''
      let info: BuilderInfo | undefined
      builderName = await phase('Set up the buildx builder', async () => {
        // One call both finds and starts the builder (each docker CLI call costs a few hundred ms).
        const inspect = await runTool(
          'docker',
          ['buildx', 'inspect', '--bootstrap', ...(requested ? [requested] : [])],
          {
            env: toolEnv,
            quiet: true,
            signal: options.signal
          }
        )
        if (inspect.exitCode !== 0 && !/no builder .* found|not found/i.test(inspect.output)) {
          throw new ActionError(`The buildx builder ${requested || '(current)'} does not start`, {
            hint: 'Check that its BuildKit daemon runs and is reachable (docker buildx inspect --bootstrap).',
            details: inspect.output.trim().split('\n').slice(-5)
          })
        }
        const existing = inspect.exitCode === 0 ? parseBuildxInspect(inspect.stdout) : undefined
        const plan = chooseBuilder({ requested, endpoint, existing, platformCount: platforms.length })
        if (plan.action === 'use' && existing) {
          info = existing
          log(
            `buildx builder ${plan.name}: driver ${info.driver}, platforms ${info.platforms.join(', ') || 'unknown'}`
          )
          return plan.name
        }
        if (plan.action === 'create') {
          log(
            `creating buildx builder ${plan.name} (${plan.driver}${plan.endpoint ? ` at ${plan.endpoint}` : ''}): ${plan.reason}`
          )
          const created = await runTool('docker', buildxCreateArgs(plan), {
            env: toolEnv,
            signal: options.signal
          })
          if (created.exitCode !== 0) {
            throw new ActionError(`Could not create the buildx builder ${plan.name}`, {
              details: created.output.trim().split('\n').slice(-5)
            })
          }
          options.onBuilderCreated?.(plan.name)
        }
        const boot = await runTool('docker', ['buildx', 'inspect', '--bootstrap', plan.name], {
          env: toolEnv,
          quiet: true,
          signal: options.signal
        })
        if (boot.exitCode !== 0) {
          throw new ActionError(`The buildx builder ${plan.name} does not start`, {
            hint: 'Check that its BuildKit daemon runs and is reachable (docker buildx inspect --bootstrap).',
            details: boot.output.trim().split('\n').slice(-5)
          })
        }
        info = parseBuildxInspect(boot.stdout)
        log(
          `buildx builder ${plan.name}: driver ${info.driver}, platforms ${info.platforms.join(', ') || 'unknown'}`
        )
        return plan.name
      })
      const remoteElsewhere = info?.driver === 'remote' && !/^unix:\/\//.test(endpoint) && endpoint !== ''
      if (!remoteElsewhere) qemu = await phase('Check QEMU emulation', () => ensureEmulators(needed, { log }))
      const missing = platforms.filter(
        p => info && info.platforms.length > 0 && !info.platforms.some(q => q === p || q.startsWith(`${p}/`))
      )
      if (missing.length)
        warnings.push(
          `builder ${builderName} does not list ${missing.join(', ')} among its platforms (${info?.platforms.join(', ')})`
        )

      if (config.username)
        await logIn(
          'docker',
          ['login', '--username', config.username, '--password-stdin', registry],
          'a private DOCKER_CONFIG'
        )
      const metadataFile = join(dir, 'buildx-metadata.json')
      const buildStarted = Date.now()
      result = await phase(`Build ${platforms.join(', ') || host.architecture} with buildx`, () =>
        runTool('docker', buildxBuildArgs(request, { builder: builderName, metadataFile }), {
          env: toolEnv,
          // BuildKit's gha cache talks to the runner's cache service with the runner's token.
          keepEnv: [...config.cacheFrom, ...config.cacheTo].some(c => c.type === 'gha') ? GHA_CACHE_ENV : [],
          signal: options.signal
        })
      )
      buildMs = Date.now() - buildStarted
      if (result.exitCode !== 0) {
        const failed = buildxFailedStep(result.output)
        // A failing RUN is a build failure; a failure while pulling or pushing may be the credentials.
        const inRunStep = failed !== undefined && /\] RUN /.test(failed.step)
        const auth = inRunStep
          ? undefined
          : authFailure(registry, config.username, {
              ...result,
              stdout: '',
              stderr: failed?.error ?? lastLines(result.output, 8).join('\n')
            })
        throw auth ?? new BuildFailure('buildx', failed, result.exitCode)
      }
      cache = buildxCacheUse(result.output)
      if (existsSync(metadataFile)) digest = parseBuildxMetadata(readFileSync(metadataFile, 'utf8')).digest
      if (config.push && !digest)
        throw new ActionError('buildx pushed, but its metadata file has no containerimage.digest', {
          hint: 'Use buildx 0.10 or newer.'
        })
    } else {
      qemu = await phase('Check QEMU emulation', () => ensureEmulators(needed, { log }))
      const authFile = privateAuthFile(cleanEnv, dir)
      if (config.username)
        await logIn('buildah', buildahLoginArgs(registry, config.username, authFile), 'a private auth file')
      builderName = `otlp-image-build-${process.pid}-${randomBytes(4).toString('hex')}`
      let buildahRequest = request
      if (!isRemoteContext(config.context)) {
        // One LABEL step, in the stage being built, instead of one per --label (see withLabelInstruction).
        const file = join(dir, 'Containerfile')
        let text: string
        try {
          text = withLabelInstruction(readFileSync(paths.file, 'utf8'), request.labels, config.target)
        } catch (err) {
          throw new ActionError(`target: ${(err as Error).message} (${config.file})`, {
            hint: 'Set target to a stage named in the Dockerfile (FROM ... AS <name>), or leave it empty.'
          })
        }
        writeFileSync(file, text)
        buildahRequest = { ...request, file, labels: {} }
      }
      const buildStarted = Date.now()
      try {
        result = await phase(`Build ${platforms.join(', ') || host.architecture} with buildah`, () =>
          runTool('buildah', buildahBuildArgs(buildahRequest, { manifest: builderName, authFile }), {
            env: toolEnv,
            signal: options.signal
          })
        )
        if (result.exitCode !== 0)
          throw new BuildFailure('buildah', buildahFailedStep(result.output), result.exitCode)
        cache = buildahCacheUse(result.output)
        if (config.push) {
          const digests = new Set<string>()
          await phase(`Push ${metadata.tags.length} tag(s)`, async () => {
            for (const [i, tag] of metadata.tags.entries()) {
              const digestFile = join(dir, `digest-${i}`)
              const pushed = await runTool(
                'buildah',
                buildahPushArgs(builderName, tag, { authFile, digestFile }),
                { env: toolEnv, signal: options.signal }
              )
              if (pushed.exitCode !== 0) {
                throw (
                  authFailure(registry, config.username, pushed) ??
                  new ActionError(`buildah could not push ${tag}`, {
                    details: pushed.output.trim().split('\n').slice(-5)
                  })
                )
              }
              const d = readFileSync(digestFile, 'utf8').trim()
              digests.add(d)
              if (!digest) digest = d
            }
          })
          if (digests.size > 1)
            warnings.push(
              `buildah pushed different digests for the tags: ${[...digests].join(', ')}; using ${digest}`
            )
        }
      } finally {
        await runTool('buildah', ['manifest', 'rm', builderName], { env: toolEnv, quiet: true }).catch(
          () => undefined
        )
      }
      buildMs = Date.now() - buildStarted
    }

    let sizes: PlatformSize[] = []
    if (config.push && digest && firstImage) {
      try {
        const same = normaliseRegistry(registryHost(firstImage)) === registry
        const client = new RegistryClient(
          firstImage.registry,
          same && config.username ? { username: config.username, password: config.password } : undefined
        )
        const inspected = await phase('Read the pushed manifests back', () =>
          inspectPushed(client, firstImage.repository, digest, platforms[0] ?? formatPlatform(host))
        )
        if (inspected.top.digest !== digest) {
          warnings.push(
            `the registry serves ${firstImage.name}@${digest} with Docker-Content-Digest ${inspected.top.digest}`
          )
        }
        sizes = inspected.sizes
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err
        warnings.push(`could not read the pushed manifests for sizes: ${err.message}`)
      }
    }
    for (const w of warnings) log(`warning: ${w}`)
    return {
      builder: kind,
      builderName,
      metadata,
      digest,
      imageRef: digest && metadata.images[0] ? `${metadata.images[0]}@${digest}` : '',
      platforms: platforms.length ? platforms : [formatPlatform(host)],
      sizes,
      cache,
      qemu,
      loggedIn: config.username ? registry : undefined,
      buildMs,
      totalMs: Date.now() - started,
      timings,
      warnings
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function describeTiming(result: BuildImageResult): string {
  return `build ${formatDuration(result.buildMs)}, step ${formatDuration(result.totalMs)}`
}

/**
 * Removes a buildx builder a build step created (the post step's work): `docker buildx rm` stops
 * and deletes its BuildKit container, or forgets a remote builder. A failure is reported, not thrown:
 * cleaning up must not fail a job whose build succeeded.
 */
export async function removeBuilder(
  name: string,
  options: { env?: Record<string, string>; log?: (line: string) => void } = {}
): Promise<{ removed: boolean; reason?: string }> {
  const log = options.log ?? (() => undefined)
  const r = await runTool('docker', ['buildx', 'rm', name], { env: options.env, quiet: true }).catch(
    (err: Error) => ({ exitCode: -1, output: err.message })
  )
  if (r.exitCode === 0) {
    log(`removed the buildx builder ${name} this step created (keep-builder: true keeps it)`)
    return { removed: true }
  }
  return {
    removed: false,
    reason: r.output.trim().split('\n').slice(-2).join(' ') || `exit code ${r.exitCode}`
  }
}
