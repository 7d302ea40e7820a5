// GET/DELETE /v1/calls/{id}/recording: stream a call's recording with HTTP Range support (browsers
// seek in an <audio> element), as stereo or one channel; delete it and mark the call.
import type { FastifyInstance } from 'fastify';
import { createError } from '../errors.ts';
import type { RecordingStore } from './recordingStore.ts';
import type { RecordingStorage } from './storage.ts';
import { parseRange, wavView, type Channel } from './wavView.ts';

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
const params = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['id'] } as const;

export async function recordingRoutes(api: FastifyInstance, deps: { recordings: RecordingStore; storage: RecordingStorage }): Promise<void> {
  const find = async (callId: string) => {
    const rec = await deps.recordings.get(callId);
    if (rec === null) throw createError('GW_ERR_RECORDING_NOT_FOUND', `call ${callId} has no recording (recording was off, or the call is unknown)`, { statusCode: 404 });
    return rec;
  };

  api.get<{ Params: { id: string }; Querystring: { channel?: Channel } }>(
    '/calls/:id/recording',
    {
      config: { permission: 'recordings' },
      schema: {
        summary: "Stream a call's recording (WAV, 8 kHz 16-bit), with Range requests",
        description: 'channel=both (default): stereo, caller left and gateway right; caller or gateway: that channel as mono. Supports `Range: bytes=…` (206).',
        tags: ['recordings'],
        params,
        querystring: { type: 'object', additionalProperties: false, properties: { channel: { type: 'string', enum: ['caller', 'gateway', 'both'], default: 'both' } } },
        response: {
          200: { description: 'audio/wav', type: 'string', examples: ['RIFF…WAVEfmt …'] },
          206: { description: 'audio/wav, the requested byte range', type: 'string' },
          404: errorSchema,
          410: errorSchema,
          416: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const rec = await find(request.params.id);
      if (rec.deletedAt !== null) throw createError('GW_ERR_RECORDING_DELETED', `the recording of call ${rec.callId} was deleted on ${rec.deletedAt.toISOString()}`, { statusCode: 410 });
      const size = await deps.storage.size(rec.recordingId);
      if (size === null) throw createError('GW_ERR_RECORDING_MISSING', `the recording of call ${rec.callId} is not in storage (still being written, or removed)`, { statusCode: 404 });
      const view = wavView(deps.storage, rec.recordingId, size, request.query.channel ?? 'both');
      const range = parseRange(request.headers.range, view.size);
      reply.header('accept-ranges', 'bytes').header('content-type', 'audio/wav').header('cache-control', 'private, no-store');
      if (range === null) {
        reply.header('content-range', `bytes */${view.size}`);
        throw createError('GW_ERR_RECORDING_RANGE', `the range is outside the recording (${view.size} bytes)`, { statusCode: 416 });
      }
      if (range === undefined) return reply.header('content-length', view.size).send(view.stream(0, view.size - 1));
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${view.size}`)
        .header('content-length', range.end - range.start + 1)
        .send(view.stream(range.start, range.end));
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/calls/:id/recording',
    {
      config: { role: 'supervisor' },
      schema: {
        summary: "Delete a call's recording; the call keeps a note that it was deleted",
        tags: ['recordings'],
        params,
        response: { 204: { type: 'null', description: 'deleted (or already gone)' }, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const rec = await find(request.params.id);
      await deps.storage.delete(rec.recordingId);
      await deps.recordings.markDeleted(rec.callId);
      return reply.code(204).send();
    },
  );
}
