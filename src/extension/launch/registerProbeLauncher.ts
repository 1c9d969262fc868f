import type { Services } from '../services';

export function registerProbeLauncher(_services: Services): void {
  // Being written.
}
