// Charge Star interoperability peer: the npm package ocpp-rpc as an OCPP
// 1.6-J charge point. Driven by interop/ocppgo/nodepeer (a Go test), which
// starts the server, provisions the stations and tokens, answers the
// "charging" event with commands through the REST API and then writes
// "next" on stdin.
//
// Configuration: the INTEROP_CONFIG environment variable, a JSON object
//   { url, station, password, rawStation, tags: { accepted, blocked, unknown } }
// Output: one JSON object per line on stdout ({"event": …}); the last one
// is {"event":"done", …} with everything the Go test asserts. Exit code 0
// unless the scenario itself could not run.
//
// Two clients:
//  - `strict`: strictMode true. ocpp-rpc validates every call it sends,
//    every answer it receives, every call the Central System sends and
//    every answer it gives against its own copy of the OCPP 1.6 JSON
//    schemas; any failure is reported in `strictFailures`.
//  - `raw`: strictMode false, used to send deliberately malformed frames
//    with sendRaw and to record the Central System's answers verbatim.

import { createInterface } from 'node:readline';
import { RPCClient, createRPCError } from 'ocpp-rpc';

const cfg = JSON.parse(process.env.INTEROP_CONFIG ?? '{}');
const started = Date.now();
const emit = (obj) => process.stdout.write(JSON.stringify({ ...obj, elapsedMs: Date.now() - started }) + '\n');

// stdin: one line per step the Go test allows.
const stdinLines = [];
const stdinWaiters = [];
createInterface({ input: process.stdin }).on('line', (line) => {
    const w = stdinWaiters.shift();
    if (w) w(line.trim()); else stdinLines.push(line.trim());
});
const nextLine = () => stdinLines.length
    ? Promise.resolve(stdinLines.shift())
    : new Promise((resolve) => stdinWaiters.push(resolve));

const withTimeout = (p, ms, what) => Promise.race([
    p,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)),
]);

const iso = (d) => new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

async function strictScenario() {
    const strictFailures = [];
    const badMessages = [];
    const received = [];   // calls from the Central System: {method, params}
    const steps = {};      // answers to our calls, by step name

    const cli = new RPCClient({
        endpoint: cfg.url,
        identity: cfg.station,
        password: cfg.password,
        protocols: ['ocpp1.6'],
        strictMode: true,
        reconnect: false,
        callTimeoutMs: 10000,
    });
    cli.on('strictValidationFailure', (ev) => strictFailures.push({
        method: ev.method, outbound: ev.outbound, isCall: ev.isCall,
        error: String(ev.error?.message ?? ev.error), params: ev.params, result: ev.result,
    }));
    cli.on('badMessage', (ev) => badMessages.push({ message: ev.buffer?.toString(), error: String(ev.error?.message ?? ev.error) }));

    let txId = null;
    let meterWh = 20000;
    const t0 = new Date(Date.now() - 30 * 60 * 1000);
    let resolveStopped;
    const stopped = new Promise((resolve) => { resolveStopped = resolve; });

    // Handlers for the Central System's commands. Each records the call;
    // follow-up messages are sent after the answer has gone out. OCPP-J
    // 1.6 §4.1.1: a Central System should not send a CALL before its
    // previous one was answered (or timed out); ocpp-rpc would handle
    // concurrent calls, so the peer counts how many are in flight at once.
    let inFlight = 0;
    let maxInFlight = 0;
    const record = (method, params) => received.push({ method, params });
    const handle = (method, f) => cli.handle(method, async (call) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
            return await f(call);
        } finally {
            inFlight--;
        }
    });
    const followUpErrors = [];
    const later = (f) => setTimeout(() => f().catch((err) => followUpErrors.push(String(err?.message ?? err))), 20);

    handle('GetConfiguration', ({ params }) => {
        record('GetConfiguration', params);
        const known = { HeartbeatInterval: '300', MeterValueSampleInterval: '60' };
        const keys = params.key ?? Object.keys(known);
        const answer = { configurationKey: keys.filter((k) => k in known).map((k) => ({ key: k, readonly: false, value: known[k] })) };
        const unknown = keys.filter((k) => !(k in known));
        if (unknown.length) answer.unknownKey = unknown;
        return answer;
    });
    handle('ChangeConfiguration', ({ params }) => {
        record('ChangeConfiguration', params);
        return { status: params.key === 'MeterValueSampleInterval' ? 'Accepted' : 'NotSupported' };
    });
    handle('DataTransfer', async ({ params }) => {
        record('DataTransfer', params);
        await new Promise((resolve) => setTimeout(resolve, 30)); // a slow charge point
        return { status: 'Accepted', data: `node:${params.data}` };
    });
    handle('UnlockConnector', ({ params }) => {
        record('UnlockConnector', params);
        return { status: 'NotSupported' };
    });
    handle('TriggerMessage', ({ params }) => {
        record('TriggerMessage', params);
        if (params.requestedMessage !== 'MeterValues' || txId === null) return { status: 'Rejected' };
        later(async () => {
            meterWh += 1500;
            steps.triggeredMeterValues = await cli.call('MeterValues', {
                connectorId: params.connectorId ?? 1, transactionId: txId,
                meterValue: [{ timestamp: iso(new Date()), sampledValue: [
                    { value: String(meterWh), context: 'Trigger', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
                ] }],
            });
        });
        return { status: 'Accepted' };
    });
    handle('RemoteStopTransaction', ({ params }) => {
        record('RemoteStopTransaction', params);
        if (params.transactionId !== txId) return { status: 'Rejected' };
        later(async () => {
            const stopAt = new Date(t0.getTime() + 20 * 60 * 1000);
            steps.meterStop = meterWh + 500;
            steps.stop = await cli.call('StopTransaction', {
                transactionId: txId, meterStop: meterWh + 500, timestamp: iso(stopAt), reason: 'Remote', idTag: cfg.tags.accepted,
                transactionData: [
                    { timestamp: iso(t0), sampledValue: [{ value: '20000', context: 'Transaction.Begin', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] },
                    { timestamp: iso(stopAt), sampledValue: [{ value: String((meterWh + 500) / 1000), context: 'Transaction.End', measurand: 'Energy.Active.Import.Register', unit: 'kWh' }] },
                ],
            });
            steps.stopAt = iso(stopAt);
            await cli.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Finishing' });
            await cli.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
            resolveStopped();
        });
        return { status: 'Accepted' };
    });
    cli.handle(({ method, params }) => {
        record(method, params);
        throw createRPCError('NotImplemented', `${method} is not implemented by this test peer`);
    });

    const conn = await cli.connect();
    emit({ event: 'connected', protocol: cli.protocol, status: conn?.response?.statusCode ?? null });

    steps.boot = await cli.call('BootNotification', {
        chargePointVendor: 'NodeVendor', chargePointModel: 'ocpp-rpc', chargePointSerialNumber: 'NODE-SN-1',
        firmwareVersion: 'ocpp-rpc-2.2.1', meterType: 'ACME-M2',
    });
    for (const connectorId of [0, 1, 2]) {
        await cli.call('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Available', timestamp: iso(new Date()) });
    }
    steps.heartbeat = await cli.call('Heartbeat', {});
    steps.authorize = {};
    for (const [name, tag] of Object.entries(cfg.tags)) {
        steps.authorize[name] = await cli.call('Authorize', { idTag: tag });
    }
    await cli.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    steps.start = await cli.call('StartTransaction', { connectorId: 1, idTag: cfg.tags.accepted, meterStart: 20000, timestamp: iso(t0) });
    txId = steps.start.transactionId;
    await cli.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    steps.meterValues = [];
    for (const [i, [value, unit]] of [['21000', 'Wh'], ['22.5', 'kWh']].entries()) {
        meterWh = unit === 'kWh' ? Number(value) * 1000 : Number(value);
        steps.meterValues.push(await cli.call('MeterValues', {
            connectorId: 1, transactionId: txId,
            meterValue: [{ timestamp: iso(new Date(t0.getTime() + (i + 1) * 5 * 60 * 1000)), sampledValue: [
                { value, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', location: 'Outlet', unit },
                { value: '11000', context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
                { value: '230.1', context: 'Sample.Periodic', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
            ] }],
        }));
    }
    steps.dataTransfer = await cli.call('DataTransfer', { vendorId: 'com.example.unknown', messageId: 'hello', data: 'x' });

    emit({ event: 'charging', transactionId: txId, t0: iso(t0), meterWh });

    // The Go test now sends commands through the REST API (ending with
    // RemoteStopTransaction, which makes us stop) and then writes "next".
    await withTimeout(nextLine(), 60000, 'the Go test to write "next"');
    await withTimeout(stopped, 10000, 'the StopTransaction that follows RemoteStopTransaction');
    steps.finalHeartbeat = await cli.call('Heartbeat', {});
    await cli.close({ code: 1000, reason: 'scenario done' });
    return { steps, received, strictFailures, badMessages, followUpErrors, maxInFlight };
}

// The malformed-message client: sends each frame, waits for the next
// frame from the Central System (or `quiet` ms of silence) and records it.
async function malformedScenario() {
    const raw = new RPCClient({
        endpoint: cfg.url,
        identity: cfg.rawStation,
        protocols: ['ocpp1.6'],
        strictMode: false,
        reconnect: false,
        callTimeoutMs: 5000,
    });
    const inbound = [];
    const waiters = [];
    raw.on('message', ({ message, outbound }) => {
        if (outbound) return;
        const w = waiters.shift();
        if (w) w(message); else inbound.push(message);
    });
    raw.on('badMessage', () => {}); // answers to frames sent with sendRaw are "bad" for ocpp-rpc: expected
    let closed = null;
    raw.on('close', (ev) => { closed = { code: ev.code, reason: String(ev.reason ?? '') }; });
    const nextInbound = (quiet) => inbound.length
        ? Promise.resolve(inbound.shift())
        : new Promise((resolve) => {
            const timer = setTimeout(() => { waiters.splice(waiters.indexOf(done), 1); resolve(null); }, quiet);
            const done = (m) => { clearTimeout(timer); resolve(m); };
            waiters.push(done);
        });

    await raw.connect();
    const cases = [
        // [name, frame, ms to wait for an answer]
        ['callBeforeBoot', '[2,"m-preboot","Heartbeat",{}]', 3000],
        ['bootMissingRequired', '[2,"m-boot-missing","BootNotification",{"chargePointVendor":"NodeVendor"}]', 3000],
        ['bootWrongType', '[2,"m-boot-type","BootNotification",{"chargePointVendor":"NodeVendor","chargePointModel":42}]', 3000],
        ['boot', '[2,"m-boot","BootNotification",{"chargePointVendor":"NodeVendor","chargePointModel":"raw"}]', 3000],
        ['unknownAction', '[2,"m-unknown","FlyToTheMoon",{}]', 3000],
        ['centralSystemAction', '[2,"m-reset","Reset",{"type":"Soft"}]', 3000],
        ['statusWrongType', '[2,"m-status-type","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available"}]', 3000],
        ['statusBadEnum', '[2,"m-status-enum","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Sleeping"}]', 3000],
        ['statusMissing', '[2,"m-status-missing","StatusNotification",{"connectorId":1,"status":"Available"}]', 3000],
        ['idTagTooLong', '[2,"m-long","Authorize",{"idTag":"ABCDEFGHIJKLMNOPQRSTUVWXYZ"}]', 3000],
        ['badMeasurand', '[2,"m-measurand","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2020-01-01T00:00:00Z","sampledValue":[{"value":"1","measurand":"Energy.Bogus"}]}]}]', 3000],
        ['badTimestamp', '[2,"m-time","StartTransaction",{"connectorId":1,"idTag":"X","meterStart":0,"timestamp":"yesterday"}]', 3000],
        ['payloadNotObject', '[2,"m-array","Heartbeat",[]]', 3000],
        ['missingAction', '[2,"m-noaction"]', 3000],
        ['actionNotString', '[2,"m-action-num",17,{}]', 3000],
        ['notJSON', 'this is not JSON', 3000],
        ['notArray', '{"hello":"world"}', 3000],
        ['truncatedJSON', '[2,"m-trunc","Heartbeat",{', 3000],
        ['unknownMessageType', '[7,"m-type7","Heartbeat",{}]', 700],
        ['resultForNothing', '[3,"never-sent",{}]', 700],
        ['errorForNothing', '[4,"never-sent","GenericError","",{}]', 700],
        ['heartbeatAfter', '[2,"m-after","Heartbeat",{}]', 3000],
    ];
    const results = [];
    for (const [name, frame, quiet] of cases) {
        const t = Date.now();
        raw.sendRaw(frame);
        const answer = await nextInbound(quiet);
        results.push({ name, sent: frame, answer: answer === null ? null : JSON.parse(answer), ms: Date.now() - t });
        if (closed) break;
    }
    const closedEarly = closed;
    await raw.close({ code: 1000 });
    return { results, closed: closedEarly };
}

try {
    const strict = await strictScenario();
    emit({ event: 'strictDone' });
    const malformed = await malformedScenario();
    emit({ event: 'done', strict, malformed });
    process.exit(0);
} catch (err) {
    emit({ event: 'error', error: String(err?.stack ?? err), rpcErrorCode: err?.rpcErrorCode, details: err?.details });
    process.exit(1);
}
