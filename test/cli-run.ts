// Runs the CLI from the TypeScript sources (tests spawn it with `node --import tsx`), as bin/rewardkit.js runs dist/.
import { main } from '../src/cli/main.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
