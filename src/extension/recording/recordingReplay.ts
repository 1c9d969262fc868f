import { basename } from 'node:path';
import { readRecording, type MalformedRecordingLine } from '../../core/events/recording';
import type { NormalizedEvent, RecordingHeader } from '../../core/events/eventTypes';
import type { EventHub, SessionDescriptor } from '../eventHub';

/**
 * Events handed to the hub at once. The reader streams the file, so the extension host gets a turn between
 * file chunks and memory stays bounded whatever the recording's size.
 */
export const REPLAY_BATCH_SIZE = 5_000;

export interface ReplayResult {
  readonly session: SessionDescriptor;
  readonly header: RecordingHeader;
  readonly events: number;
  readonly malformed: readonly MalformedRecordingLine[];
}

let replayCounter = 0;

/**
 * Reads a recording with the core reader and publishes it into the hub as a 'recording' session.
 * Rejects with RecordingError when the file is not a recording, has another format version or cannot be
 * read; a session already started is ended either way (keeping what was published).
 */
export async function replayRecording(
  hub: EventHub,
  path: string,
  onSessionStarted?: (session: SessionDescriptor) => void,
): Promise<ReplayResult> {
  let session: SessionDescriptor | undefined;
  let batch: NormalizedEvent[] = [];
  const publishBatch = (): void => {
    if (session && batch.length > 0) hub.publish(session.id, batch);
    batch = [];
  };
  try {
    const result = await readRecording(
      path,
      (event) => {
        batch.push(event);
        if (batch.length >= REPLAY_BATCH_SIZE) publishBatch();
      },
      (header) => {
        replayCounter++;
        session = {
          id: `recording-${Date.now()}-${replayCounter}`,
          tool: header.tool,
          source: 'recording',
          label: `${basename(path)} (${header.tool})`,
          binary: header.binary,
          pid: header.pid,
          startedAt: header.started_at || new Date().toISOString(),
        };
        hub.startSession(session);
        onSessionStarted?.(session);
      },
    );
    publishBatch();
    if (!session) throw new Error(`${path}: no recording header`);
    hub.endSession(session.id, 'end of recording');
    return { session, header: result.header, events: result.events, malformed: result.malformed };
  } catch (error) {
    if (session) {
      publishBatch();
      hub.endSession(session.id, `recording unreadable: ${(error as Error).message}`);
    }
    throw error;
  }
}
