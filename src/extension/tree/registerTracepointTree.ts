import type { Services } from '../services';

export function registerTracepointTree(_services: Services): void {
  // Being written.
}
