import type { Services } from '../services';

export function registerP2pPanel(_services: Services): void {
  // Being written.
}
