import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  buildahCacheUse,
  buildahFailedStep,
  buildxCacheUse,
  buildxFailedStep
} from '../../src/image/build-log.js'

const log = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')

describe('buildx progress', () => {
  it('names the failing RUN step with its platform and its last lines', () => {
    expect(buildxFailedStep(log('buildx-failing-run.log'))).toEqual({
      step: '[linux/amd64 3/3] RUN echo "compiling relay" && echo "error[E0425]: cannot find value x" >&2 && exit 3',
      lines: ['compiling relay', 'error[E0425]: cannot find value x'],
      error:
        'process "/bin/sh -c echo \\"compiling relay\\" && echo \\"error[E0425]: cannot find value x\\" >&2 && exit 3" did not complete successfully: exit code: 3'
    })
  })

  it('keeps only the last lines of a chatty step', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `#9 ${(i / 10).toFixed(3)} line ${i}`)
    const failed = buildxFailedStep(
      ['#9 [linux/amd64 2/2] RUN make', ...lines, '#9 ERROR: exit code: 2'].join('\n'),
      5
    )
    expect(failed?.lines).toEqual(['line 35', 'line 36', 'line 37', 'line 38', 'line 39'])
  })

  it('falls back to the final error line when no step failed (a push refused)', () => {
    expect(buildxFailedStep('#1 [internal] load\nERROR: failed to push r/app:1: unauthorized')).toEqual({
      step: 'build',
      lines: [],
      error: 'failed to push r/app:1: unauthorized'
    })
  })

  it('counts cached Dockerfile steps, not internal ones', () => {
    // a cold build: two RUN steps per platform, none cached (FROM is not counted)
    expect(buildxCacheUse(log('buildx-two-platforms.log'))).toEqual({ steps: 4, cached: 0 })
  })
})

describe('buildah output', () => {
  it('names the failing step with its platform and the lines it printed', () => {
    expect(buildahFailedStep(log('buildah-failing-run.log'))).toEqual({
      step: '[linux/arm64 3/3] RUN echo "compiling relay" && echo "error[E0425]: cannot find value x" >&2 && exit 3',
      lines: ['compiling relay', 'error[E0425]: cannot find value x'],
      error:
        'building at STEP "RUN echo "compiling relay" && echo "error[E0425]: cannot find value x" >&2 && exit 3": while running runtime: exit status 3'
    })
  })

  it('counts steps served from the layer cache', () => {
    expect(buildahCacheUse(log('buildah-two-platforms-cold.log'))).toEqual({ steps: 6, cached: 0 })
    expect(buildahCacheUse(log('buildah-two-platforms-warm.log'))).toEqual({ steps: 6, cached: 6 })
  })
})

describe('buildx cache use of an unchanged rebuild', () => {
  it('counts every step as cached, FROM left out', () => {
    expect(buildxCacheUse(log('buildx-warm-bench.log'))).toEqual({ steps: 10, cached: 10 })
  })
})

describe('buildah multi-stage output', () => {
  it('names the stage and the step of a failing instruction', () => {
    const out = [
      '[1/2] STEP 1/3: FROM busybox AS builder',
      '[1/2] STEP 2/3: RUN make',
      'make: *** [all] Error 2',
      'Error: building at STEP "RUN make": while running runtime: exit status 2'
    ].join('\n')
    expect(buildahFailedStep(out)).toEqual({
      step: '[stage 1/2 step 2/3] RUN make',
      lines: ['make: *** [all] Error 2'],
      error: 'building at STEP "RUN make": while running runtime: exit status 2'
    })
  })
})
