import { runAction } from '../../runtime/index.js'
import { main } from './main.js'

await runAction(main)
