// POST /v1/calls: place an outbound call through the carrier's REST API. The call record exists
// before the carrier is asked (so its webhook can find it by our id), the voice webhook and status
// callbacks point back at this gateway, and the call runs its flow once answered — with AMD on by
// default, as outbound calls should.
import type { FastifyInstance } from 'fastify';
import type { Carrier } from '../call/events.ts';
import type { Config } from '../config.ts';
import { createError, GatewayError } from '../errors.ts';
import type { CarrierClients } from '../gateway/carrierClients.ts';
import type { FlowResolver } from '../flow/resolve.ts';
import type { CallStore } from '../store/calls.ts';

export interface OutboundCallDeps {
  config: Config;
  calls: CallStore;
  clients: CarrierClients;
  resolver: FlowResolver;
}

interface Body {
  to: string;
  from: string;
  flowId: string;
  variables?: Record<string, unknown>;
  amd?: boolean;
  carrier?: Carrier;
  timeoutS?: number;
  record?: boolean;
}

const E164 = '^\\+[1-9][0-9]{6,14}$';

export async function outboundCallRoutes(app: FastifyInstance, deps: OutboundCallDeps): Promise<void> {
  app.post<{ Body: Body }>(
    '/calls',
    {
      schema: {
        summary: 'Place an outbound call that runs a flow when answered',
        tags: ['calls'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['to', 'from', 'flowId'],
          properties: {
            to: { type: 'string', pattern: E164, description: 'E.164 number to call' },
            from: { type: 'string', pattern: E164, description: 'E.164 caller id (a number of your carrier account)' },
            flowId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
            variables: { type: 'object', additionalProperties: true, maxProperties: 100, description: 'available to the flow, e.g. {"contact": {"firstName": "Ada"}}' },
            amd: { type: 'boolean', default: true, description: 'run answering-machine detection from answer' },
            carrier: { type: 'string', enum: ['twilio', 'signalwire'] },
            timeoutS: { type: 'integer', minimum: 5, maximum: 600, default: 60 },
            record: { type: 'boolean', description: 'record this call (the same as the call variable record: true)' },
          },
        },
        response: {
          201: { type: 'object', properties: { id: { type: 'string' }, carrier: { type: 'string' }, carrierCallId: { type: 'string' }, status: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (JSON.stringify(body.variables ?? {}).length > 16 * 1024) {
        throw createError('GW_ERR_BAD_REQUEST', 'variables: must serialize to at most 16 KiB', { statusCode: 400 });
      }
      const carrier: Carrier | undefined = body.carrier ?? (deps.clients.twilio ? 'twilio' : deps.clients.signalwire ? 'signalwire' : undefined);
      const client = carrier === undefined ? undefined : deps.clients[carrier];
      if (carrier === undefined || client === undefined) {
        throw createError('GW_ERR_CARRIER_UNAVAILABLE', `no credentials for ${body.carrier ?? 'any carrier'}: set TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN or the SIGNALWIRE_* variables`, { statusCode: 503 });
      }
      if ((await deps.resolver.load(body.flowId)) === undefined) {
        throw createError('GW_ERR_FLOW_NOT_FOUND', `flowId: no flow "${body.flowId}"; deploy it with POST /v1/flows first`, { statusCode: 400 });
      }
      const { call } = await deps.calls.create({
        carrier,
        direction: 'outbound',
        fromNumber: body.from,
        toNumber: body.to,
        status: 'queued',
        flowId: body.flowId,
        // `record` travels as a call variable, the way a campaign sets it for its calls.
        metadata: { variables: body.record === true ? { ...body.variables, record: true } : (body.variables ?? {}), amd: body.amd ?? true },
      });
      const origin = deps.config.publicUrl.origin;
      let placed;
      try {
        placed = await client.createCall({
          to: body.to,
          from: body.from,
          url: `${origin}/voice/${carrier}?callId=${encodeURIComponent(call.id)}`,
          statusCallback: `${origin}/status/${carrier}`,
          timeoutS: body.timeoutS ?? 60,
        });
      } catch (err) {
        if (err instanceof GatewayError && err.code === 'GW_ERR_CARRIER_TIMEOUT') {
          // The carrier may have placed the call anyway: its webhook will find the record by our id.
          // Neither mark it failed nor invite a retry that could ring the person twice.
          throw createError('GW_ERR_CARRIER_UNCERTAIN', `the carrier did not answer in time; the call may still be placed — check GET /v1/calls/${call.id} before retrying`, { statusCode: 504, retryable: false, details: { id: call.id }, cause: err });
        }
        await deps.calls.end({ id: call.id }, 'carrier_rejected', 'failed');
        if (err instanceof GatewayError) {
          throw createError('GW_ERR_CARRIER_REJECTED', `the carrier did not place the call: ${err.message}`, { statusCode: err.retryable ? 503 : 502, retryable: err.retryable, cause: err });
        }
        throw err;
      }
      // The call is placed: a failure to note the carrier's id now must not report it as failed (the
      // voice webhook fills the id in from our id in its URL).
      await deps.calls.setCarrierCallId(call.id, placed.sid).catch((err: unknown) => request.log.warn({ err, callId: call.id }, 'recording the carrier call id failed; the webhook will fill it in'));
      request.log.info({ callId: call.id, carrier }, 'outbound call placed');
      return reply.code(201).send({ id: call.id, carrier, carrierCallId: placed.sid, status: placed.status });
    },
  );
}
