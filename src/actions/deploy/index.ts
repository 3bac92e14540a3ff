import { runAction } from '../../runtime/index.js'
import { post } from '../image-build/main.js'
import { main } from './main.js'

// The post phase is image-build's: the one-step action builds with it.
await runAction(main, post)
