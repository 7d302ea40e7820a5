import { describe, expect, it } from 'vitest';
import { connectStreamTwiml, dialTwiml, escapeXml, parseTwiml, refusalTwiml, unescapeXml } from '../../src/telephony/twiml.ts';

describe('connectStreamTwiml', () => {
  it('builds the Twilio connect-stream response with parameters', () => {
    const xml = connectStreamTwiml({ carrier: 'twilio', url: 'wss://gw.example.com/media/twilio', parameters: { callId: 'c-1', token: 't.ok' }, authBearerToken: 'ignored', codec: 'L16@16000h' });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://gw.example.com/media/twilio"><Parameter name="callId" value="c-1"/><Parameter name="token" value="t.ok"/></Stream></Connect></Response>',
    );
  });

  it('adds authBearerToken, codec and status callback for SignalWire', () => {
    const xml = connectStreamTwiml({
      carrier: 'signalwire',
      url: 'wss://gw.example.com/media/signalwire',
      parameters: { callId: 'c-2', token: 'tok' },
      authBearerToken: 'tok',
      codec: 'L16@16000h',
      statusCallback: 'https://gw.example.com/status?a=1&b=2',
      statusCallbackMethod: 'POST',
    });
    expect(xml).toContain('<Stream url="wss://gw.example.com/media/signalwire" authBearerToken="tok" codec="L16@16000h" statusCallback="https://gw.example.com/status?a=1&amp;b=2" statusCallbackMethod="POST">');
  });

  it('escapes attribute values and round-trips through parseTwiml', () => {
    const nasty = `a&b<c>"d"'e' ✓`;
    const xml = connectStreamTwiml({ carrier: 'signalwire', url: 'wss://h/media/signalwire', parameters: { [nasty]: nasty, callId: 'id' }, authBearerToken: nasty });
    expect(xml).not.toContain(nasty);
    const parsed = parseTwiml(xml);
    expect(parsed.verbs).toEqual(['Connect']);
    expect(parsed.stream).toEqual({ url: 'wss://h/media/signalwire', authBearerToken: nasty, codec: undefined, name: undefined, parameters: { [nasty]: nasty, callId: 'id' } });
  });

  it('refuses a non-websocket url', () => {
    expect(() => connectStreamTwiml({ carrier: 'twilio', url: 'https://h/media' })).toThrow(RangeError);
  });
});

describe('refusal and transfer TwiML', () => {
  it('says sorry and hangs up, or rejects busy', () => {
    expect(refusalTwiml({ message: 'Busy & sorry' })).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Busy &amp; sorry</Say><Hangup/></Response>');
    expect(parseTwiml(refusalTwiml()).verbs).toEqual(['Say', 'Hangup']);
    const reject = parseTwiml(refusalTwiml({ reject: 'busy' }));
    expect(reject).toEqual({ verbs: ['Reject'], stream: undefined, rejectReason: 'busy' });
  });

  it('dials a number with callerId and timeout, or a SIP URI', () => {
    expect(dialTwiml({ number: '+14155550100', callerId: '+14155550199', timeoutS: 20 })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+14155550199" timeout="20"><Number>+14155550100</Number></Dial></Response>',
    );
    expect(dialTwiml({ number: 'sip:agent@pbx.example.com', say: 'Transferring you' })).toContain('<Say>Transferring you</Say><Dial><Sip>sip:agent@pbx.example.com</Sip></Dial>');
    expect(() => dialTwiml({ number: '+1', timeoutS: 1 })).toThrow(RangeError);
  });
});

describe('parseTwiml', () => {
  it('reads the documented SignalWire example with spaces, single quotes and comments', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <!-- <Connect><Stream url="wss://wrong"/></Connect> -->
  <Say>Connecting</Say>
  <Connect action='https://h/after'>
    <Stream url = "wss://your-application.com/audiostream" name='s1' >
      <Parameter name="Cookie" value ="948f9938-299a-d43e-0df4-af3a7eccb0ac"/>
      <Parameter name='Type' value='SIP' />
    </Stream>
  </Connect>
</Response>`;
    expect(parseTwiml(xml)).toEqual({
      verbs: ['Say', 'Connect'],
      stream: { url: 'wss://your-application.com/audiostream', authBearerToken: undefined, codec: undefined, name: 's1', parameters: { Cookie: '948f9938-299a-d43e-0df4-af3a7eccb0ac', Type: 'SIP' } },
      rejectReason: undefined,
    });
  });

  it('ignores a <Start><Stream> (unidirectional) and parameters outside a stream', () => {
    const parsed = parseTwiml('<Response><Start><Stream url="wss://fork"><Parameter name="a" value="1"/></Stream></Start><Parameter name="b" value="2"/></Response>');
    expect(parsed.stream).toBeUndefined();
    expect(parsed.verbs).toEqual(['Start', 'Parameter']);
  });

  it('handles empty and garbage input', () => {
    expect(parseTwiml('')).toEqual({ verbs: [], stream: undefined, rejectReason: undefined });
    expect(parseTwiml('not xml at all').stream).toBeUndefined();
  });
});

describe('XML escaping', () => {
  it('escapes and unescapes named and numeric entities', () => {
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
    expect(unescapeXml('&lt;&amp;&gt;&quot;&apos;&#233;&#x2713;&amp;amp;')).toBe(`<&>"'é✓&amp;`);
    expect(unescapeXml('&unknown; &#xFFFFFFF;')).toBe('&unknown; &#xFFFFFFF;');
  });
});
