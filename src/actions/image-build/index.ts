import { runAction } from '../../runtime/index.js'
import { main, post } from './main.js'

await runAction(main, post)
