// Charge Star interoperability peer: the npm package ocpp-rpc as an OCPP
// 2.0.1 or 2.1 charging station with strict schema validation. Driven by
// interop/ocppgo/nodepeer (Go tests), which starts the server, provisions
// the station and tokens, answers the "charging" event with commands
// through the REST API and then writes "next" on stdin.
//
// Configuration: the INTEROP_CONFIG environment variable, a JSON object
//   { url, station, password?, version: "ocpp2.0.1" | "ocpp2.1",
//     schemaDir (2.1: the folder of the official OCPP 2.1 JSON schemas),
//     transactionId, tags: { accepted, blocked, expired, unknown } }
// Output: one JSON object per line on stdout ({"event": …}); the last one
// is {"event":"done", …} with everything the Go test asserts. Exit code 0
// unless the scenario itself could not run.
//
// Strict validation. ocpp-rpc validates every call it sends, every answer
// it receives, every call the CSMS sends and every answer it gives, and
// reports failures as `strictValidationFailure` events (collected in
// `strictFailures`); an invalid call from the CSMS is refused with a
// CALLERROR before our handler sees it.
//  - 2.0.1: ocpp-rpc's built-in validator (its copy of the OCA 2.0.1
//    schemas, which differs from the official files only by a dropped
//    "javaType" annotation).
//  - 2.1: ocpp-rpc 2.2.1's built-in 2.1 validator cannot work: its schemas
//    carry ids like "urn:AuthorizeRequest" while the client looks them up
//    as "urn:Authorize.req" / "urn:Authorize.conf", so every message fails
//    with "Schema 'urn:Authorize.req' is missing". We build our own with
//    ocpp-rpc's createValidator from the official 2.1 files read at run
//    time (never copied into the repository). Those files declare JSON
//    Schema draft-06 ("$schema": "http://json-schema.org/draft-06/schema#",
//    ids "urn:OCPP:Cp:2:2025:1:<Name>Request|Response"); the Ajv 8 that
//    ocpp-rpc uses (8.14.0, default class = draft-07) refuses them with
//    'no schema with key or ref "http://json-schema.org/draft-06/schema#"'
//    unless the draft-06 meta-schema is added first, which we do (from that
//    same Ajv package). Draft-06 needs nothing else: none of the 2.1 files
//    use draft 2019-09/2020-12 keywords. Each official schema keeps its own
//    id; a small alias schema {"$id":"urn:<Action>.req","$ref":<official
//    id>} maps ocpp-rpc's lookup names onto it.

import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RPCClient, createRPCError, createValidator } from 'ocpp-rpc';

const cfg = JSON.parse(process.env.INTEROP_CONFIG ?? '{}');
const v21 = cfg.version === 'ocpp2.1';
const started = Date.now();
const emit = (obj) => process.stdout.write(JSON.stringify({ ...obj, elapsedMs: Date.now() - started }) + '\n');

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

// validator21 builds the OCPP 2.1 validator from the official schemas.
function validator21(dir) {
    const requireFromRPC = createRequire(createRequire(import.meta.url).resolve('ocpp-rpc'));
    const draft06 = requireFromRPC('ajv/dist/refs/json-schema-draft-06.json');
    const schemas = [];
    const aliases = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
        const schema = JSON.parse(readFileSync(join(dir, file), 'utf8').replace(/^\uFEFF/, ''));
        schemas.push(schema);
        const m = /^urn:OCPP:Cp:2:2025:1:(.+?)(Request|Response)$/.exec(schema.$id ?? '');
        if (m) aliases.push({ $id: `urn:${m[1]}.${m[2] === 'Request' ? 'req' : 'conf'}`, $ref: schema.$id });
        // else NotifyPeriodicEventStream: a SEND, no request/response pair.
    }
    if (aliases.length < 180) throw new Error(`only ${aliases.length} OCPP 2.1 request/response schemas in ${dir}`);
    const validator = createValidator('ocpp2.1', [draft06, ...schemas, ...aliases]);
    // Compile every schema now (Ajv compiles lazily), so that a schema
    // Ajv cannot compile fails here and not in the middle of the scenario.
    // Ajv's strict-mode notes about the files (e.g. "additionalProperties"
    // on string enums) are harmless; they are counted, not printed.
    const warn = console.warn;
    let notes = 0;
    console.warn = () => { notes++; };
    try {
        for (const { $id } of aliases) {
            try {
                validator.validate($id, {});
            } catch (err) {
                if (!err.rpcErrorCode) throw new Error(`compiling ${$id}: ${err.message}`);
            }
        }
    } finally {
        console.warn = warn;
    }
    return { validator, info: { schemaFiles: schemas.length, aliases: aliases.length, ajvStrictNotes: notes } };
}

async function scenario() {
    const strictFailures = [];
    const badMessages = [];
    const received = [];
    const steps = {};
    const followUpErrors = [];

    let setup = { validator: 'ocpp-rpc built-in (ocpp2.0.1)' };
    const strictModeValidators = [];
    if (v21) {
        const { validator, info } = validator21(cfg.schemaDir);
        strictModeValidators.push(validator);
        setup = { validator: 'createValidator(ocpp2.1, official schemas)', ...info };
    }

    const cli = new RPCClient({
        endpoint: cfg.url,
        identity: cfg.station,
        password: cfg.password,
        protocols: [cfg.version],
        strictMode: true,
        strictModeValidators,
        reconnect: false,
        callTimeoutMs: 10000,
    });
    let selfCheck = null;
    cli.on('strictValidationFailure', (ev) => selfCheck === 'running' ? null : strictFailures.push({
        method: ev.method, outbound: ev.outbound, isCall: ev.isCall,
        error: String(ev.error?.message ?? ev.error), params: ev.params, result: ev.result,
    }));
    cli.on('badMessage', (ev) => badMessages.push({ message: ev.buffer?.toString(), error: String(ev.error?.message ?? ev.error) }));

    const txId = cfg.transactionId;
    let txActive = false;
    let seqNo = 0;
    let meterWh = 20000;
    const t0 = new Date(Date.now() - 30 * 60 * 1000);
    let resolveStopped;
    const stopped = new Promise((resolve) => { resolveStopped = resolve; });
    const token = (idToken) => ({ idToken, type: 'ISO14443' });
    const energy = (at, value, context, unit = 'Wh') => ({
        timestamp: iso(at),
        sampledValue: [{ value, context, measurand: 'Energy.Active.Import.Register', location: 'Outlet', unitOfMeasure: { unit } }],
    });
    // The station's timeline: the transaction began 30 minutes ago.
    const at = (minutes) => new Date(t0.getTime() + minutes * 60 * 1000);
    const txEvent = (when, eventType, triggerReason, info, extra = {}) => cli.call('TransactionEvent', {
        eventType, timestamp: iso(when), triggerReason, seqNo: seqNo++,
        transactionInfo: { transactionId: txId, ...info }, ...extra,
    });

    // The device model the CSMS can read and write.
    const deviceModel = new Map([
        ['OCPPCommCtrlr/HeartbeatInterval', { value: '300', dataType: 'integer', unit: 's' }],
        ['SampledDataCtrlr/TxUpdatedInterval', { value: '60', dataType: 'integer', unit: 's' }],
        ['AuthCtrlr/AuthorizeRemoteStart', { value: 'true', dataType: 'boolean' }],
    ]);

    // Handlers for the CSMS's commands. OCPP-J (2.0.1 and 2.1 Part 4,
    // §4.1.1): a CSMS should not send a CALL before its previous one was
    // answered (or timed out); the peer counts the calls in flight.
    let inFlight = 0;
    let maxInFlight = 0;
    const record = (method, params) => received.push({ method, params });
    const handle = (method, f) => cli.handle(method, async (call) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
            record(method, call.params);
            return await f(call);
        } finally {
            inFlight--;
        }
    });
    const later = (f) => setTimeout(() => f().catch((err) => followUpErrors.push(String(err?.message ?? err))), 20);

    handle('GetVariables', ({ params }) => ({
        getVariableResult: params.getVariableData.map(({ component, variable, attributeType }) => {
            const v = deviceModel.get(`${component.name}/${variable.name}`);
            if (!v) return { attributeStatus: 'UnknownComponent', component, variable };
            return { attributeStatus: 'Accepted', attributeType: attributeType ?? 'Actual', attributeValue: v.value, component, variable };
        }),
    }));
    handle('SetVariables', ({ params }) => ({
        setVariableResult: params.setVariableData.map(({ component, variable, attributeType, attributeValue }) => {
            const v = deviceModel.get(`${component.name}/${variable.name}`);
            if (!v) return { attributeStatus: 'UnknownVariable', component, variable };
            v.value = attributeValue;
            return { attributeStatus: 'Accepted', attributeType: attributeType ?? 'Actual', component, variable };
        }),
    }));
    handle('GetBaseReport', ({ params }) => {
        later(async () => {
            steps.notifyReport = await cli.call('NotifyReport', {
                requestId: params.requestId, generatedAt: iso(new Date()), seqNo: 0,
                reportData: [...deviceModel].map(([key, v]) => {
                    const [component, variable] = key.split('/');
                    return {
                        component: { name: component }, variable: { name: variable },
                        variableAttribute: [{ type: 'Actual', value: v.value, mutability: 'ReadWrite', persistent: true }],
                        variableCharacteristics: { dataType: v.dataType, ...(v.unit ? { unit: v.unit } : {}), supportsMonitoring: false },
                    };
                }),
            });
        });
        return { status: 'Accepted' };
    });
    handle('DataTransfer', async ({ params }) => {
        await new Promise((resolve) => setTimeout(resolve, 30)); // a slow station
        return { status: 'Accepted', data: `node:${params.data}` };
    });
    handle('UnlockConnector', ({ params }) => ({ status: txActive && params.evseId === 1 ? 'OngoingAuthorizedTransaction' : 'Unlocked' }));
    handle('Reset', () => ({ status: 'Scheduled' }));
    handle('CostUpdated', () => ({}));
    handle('GetTransactionStatus', ({ params }) => ({
        ongoingIndicator: params.transactionId === txId && txActive, messagesInQueue: false,
    }));
    handle('TriggerMessage', ({ params }) => {
        if (params.requestedMessage !== 'TransactionEvent' || !txActive) return { status: 'Rejected' };
        later(async () => {
            meterWh += 1500;
            steps.triggered = await txEvent(at(15), 'Updated', 'Trigger', { chargingState: 'Charging' },
                { meterValue: [energy(at(15), meterWh, 'Trigger')] });
        });
        return { status: 'Accepted' };
    });
    handle('RequestStopTransaction', ({ params }) => {
        if (params.transactionId !== txId || !txActive) return { status: 'Rejected' };
        later(async () => {
            const stopAt = at(20);
            steps.meterStop = meterWh + 500;
            steps.ended = await cli.call('TransactionEvent', {
                eventType: 'Ended', timestamp: iso(stopAt), triggerReason: 'RemoteStop', seqNo: seqNo++,
                transactionInfo: { transactionId: txId, chargingState: 'EVConnected', stoppedReason: 'Remote' },
                meterValue: [energy(stopAt, (meterWh + 500) / 1000, 'Transaction.End', 'kWh')],
            });
            txActive = false;
            steps.stopAt = iso(stopAt);
            await cli.call('StatusNotification', { timestamp: iso(at(21)), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
            resolveStopped();
        });
        return { status: 'Accepted' };
    });
    if (v21) {
        const tariffs = [];
        handle('SetDefaultTariff', ({ params }) => {
            tariffs.push({ tariffId: params.tariff.tariffId, tariffKind: 'DefaultTariff', evseIds: [params.evseId] });
            return { status: 'Accepted' };
        });
        handle('GetTariffs', () => (tariffs.length ? { status: 'Accepted', tariffAssignments: tariffs } : { status: 'NoTariff' }));
    }
    cli.handle(({ method, params }) => {
        record(method, params);
        throw createRPCError('NotImplemented', `${method} is not implemented by this test peer`);
    });

    const conn = await cli.connect();
    // Proof that strict validation is live for the negotiated protocol: a
    // call with a property its schema does not allow is refused locally,
    // before it is sent.
    selfCheck = 'running';
    try {
        await cli.call('Heartbeat', { notInTheSchema: true });
        selfCheck = 'sent: strict validation is not active';
    } catch (err) {
        selfCheck = err.rpcErrorCode ?? String(err);
    }
    setup.selfCheck = selfCheck;
    emit({ event: 'connected', protocol: cli.protocol, status: conn?.response?.statusCode ?? null, setup });

    steps.boot = await cli.call('BootNotification', {
        reason: 'PowerUp',
        chargingStation: { vendorName: 'NodeVendor', model: 'ocpp-rpc', serialNumber: 'NODE-SN-2X', firmwareVersion: 'ocpp-rpc-2.2.1' },
    });
    for (const evseId of [1, 2]) {
        await cli.call('StatusNotification', { timestamp: iso(at(-1)), connectorStatus: 'Available', evseId, connectorId: 1 });
    }
    steps.heartbeat = await cli.call('Heartbeat', {});
    steps.authorize = {};
    for (const [name, tag] of Object.entries(cfg.tags)) {
        steps.authorize[name] = await cli.call('Authorize', { idToken: token(tag) });
    }

    // The transaction: plugged in, authorised, charging, metered.
    await cli.call('StatusNotification', { timestamp: iso(t0), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
    steps.started = await cli.call('TransactionEvent', {
        eventType: 'Started', timestamp: iso(t0), triggerReason: 'Authorized', seqNo: seqNo++,
        transactionInfo: { transactionId: txId, chargingState: 'EVConnected' },
        evse: { id: 1, connectorId: 1 }, idToken: token(cfg.tags.accepted),
        meterValue: [energy(t0, 20000, 'Transaction.Begin')],
    });
    txActive = true;
    steps.charging = await txEvent(at(1), 'Updated', 'ChargingStateChanged', { chargingState: 'Charging' });
    steps.updated = [];
    for (const [i, [value, unit]] of [[21000, 'Wh'], [22.5, 'kWh']].entries()) {
        meterWh = unit === 'kWh' ? value * 1000 : value;
        const when = at((i + 1) * 5);
        const mv = energy(when, value, 'Sample.Periodic', unit);
        mv.sampledValue.push(
            { value: 11000, context: 'Sample.Periodic', measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
            { value: 230.1, context: 'Sample.Periodic', measurand: 'Voltage', phase: 'L1-N', unitOfMeasure: { unit: 'V' } },
        );
        steps.updated.push(await txEvent(when, 'Updated', 'MeterValuePeriodic', { chargingState: 'Charging' }, { meterValue: [mv] }));
    }
    // Meter values of the idle EVSE: no transaction.
    steps.idleMeterValues = await cli.call('MeterValues', { evseId: 2, meterValue: [energy(at(11), 500, 'Sample.Clock')] });
    steps.dataTransfer = await cli.call('DataTransfer', { vendorId: 'com.example.unknown', messageId: 'hello', data: 'x' });

    emit({ event: 'charging', transactionId: txId, t0: iso(t0), meterWh });

    // The Go test now sends commands through the REST API (ending with a
    // stop of the transaction) and then writes "next".
    await withTimeout(nextLine(), 60000, 'the Go test to write "next"');
    await withTimeout(stopped, 10000, 'the TransactionEvent Ended that follows RequestStopTransaction');
    if (v21) {
        // The station's payment terminal settled the session (2.1 C18).
        steps.settlement = await cli.call('NotifySettlement', {
            transactionId: txId, pspRef: 'PSP-REF-0001', status: 'Settled', settlementAmount: 4.2,
            settlementTime: iso(new Date()), receiptId: 'RCPT-1', receiptUrl: 'https://receipts.example.com/RCPT-1',
        });
    }
    steps.finalHeartbeat = await cli.call('Heartbeat', {});
    await cli.close({ code: 1000, reason: 'scenario done' });
    return { steps, received, strictFailures, badMessages, followUpErrors, maxInFlight, setup };
}

try {
    const result = await scenario();
    emit({ event: 'done', result });
    process.exit(0);
} catch (err) {
    emit({ event: 'error', error: String(err?.stack ?? err), rpcErrorCode: err?.rpcErrorCode, details: err?.details });
    process.exit(1);
}
