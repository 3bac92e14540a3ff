import { imageReferenceProblem, parseImagePins, pinImages } from '../../src/kube/images.js'
import type { KubeObject } from '../../src/kube/objects.js'

const DIGEST = `sha256:${'a'.repeat(64)}`

describe('image pins', () => {
  it.each([
    'web',
    'web:v1',
    'registry.example.com:5000/team/web:v1.2-rc',
    `ghcr.io/o/web@${DIGEST}`,
    `web:v1@${DIGEST}`
  ])('accepts %s', ref => {
    expect(imageReferenceProblem(ref)).toBeUndefined()
  })
  it.each(['', 'Web:v1', 'web:', 'web@sha256:abc', 'web::v1'])('rejects %j', ref => {
    expect(imageReferenceProblem(ref)).toBeDefined()
  })

  it('parses container=image pairs, flagging digests', () => {
    const { pins, problems } = parseImagePins(
      new Map([
        ['web', `ghcr.io/o/web@${DIGEST}`],
        ['Bad_Name', 'x'],
        ['side', 'side:v']
      ])
    )
    expect(pins).toEqual([
      { container: 'web', image: `ghcr.io/o/web@${DIGEST}`, byDigest: true },
      { container: 'side', image: 'side:v', byDigest: false }
    ])
    expect(problems).toEqual([expect.stringMatching(/"Bad_Name" is not a container name/)])
  })

  it('pins containers and init containers of every workload kind, exactly, and reports unmatched pins', () => {
    const deployment: KubeObject = {
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        template: {
          spec: {
            initContainers: [{ name: 'web', image: 'web:old' }],
            containers: [
              { name: 'web', image: 'web:old' },
              { name: 'proxy', image: 'p:1' }
            ]
          }
        }
      }
    }
    const cron: KubeObject = {
      kind: 'CronJob',
      metadata: { name: 'c' },
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'web' }] } } } } }
    }
    const service: KubeObject = { kind: 'Service', metadata: { name: 's' }, spec: { ports: [] } }
    const pins = [
      { container: 'web', image: `web@${DIGEST}`, byDigest: true },
      { container: 'typo', image: 'x:1', byDigest: false }
    ]
    const { pinned, unmatched } = pinImages([deployment, cron, service], pins)
    expect(pinned.map(p => [p.object, p.container, p.init, p.to])).toEqual([
      ['Deployment web', 'web', true, `web@${DIGEST}`],
      ['Deployment web', 'web', false, `web@${DIGEST}`],
      ['CronJob c', 'web', false, `web@${DIGEST}`]
    ])
    expect(unmatched.map(u => u.container)).toEqual(['typo'])
    const spec = (deployment.spec as { template: { spec: { containers: { image: string }[] } } }).template
      .spec
    expect(spec.containers.map(c => c.image)).toEqual([`web@${DIGEST}`, 'p:1'])
  })
})
