// station page (/console/stations/{id}): details, connectors (live, from
// the board's event stream filtered to the station), remote management
// (every command of the API, version-neutral where one exists), device
// configuration, recent sessions, status events and the OCPP message log.
// See console.js for the shared helpers (CS.*).
(function () {
  "use strict";
  const { el, $, clear } = CS;

  const id = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
  const stationPath = "/stations/" + encodeURIComponent(id);
  let station = null; // GET /stations/{id}
  let live = null; // the station's BoardStation
  const canOperate = CS.can("operate");

  // is2x: the station speaks OCPP 2.0.1 or 2.1 (commands take 2.x
  // payloads); before its first connection 1.6 is assumed.
  const is2x = () => !!(station && station.protocol && station.protocol.startsWith("ocpp2"));
  const pretty = (v) => { try { return JSON.stringify(v, null, 2); } catch (_) { return String(v); } };
  const randomID = () => Math.floor(Math.random() * 2_000_000_000) + 1;
  const iso = (local) => local ? new Date(local).toISOString() : undefined;
  const num = (v) => (v === "" || v === undefined || v === null) ? undefined : Number(v);
  // localInput gives a datetime-local value minutes from now.
  const localInput = (minutes) => {
    const d = new Date(Date.now() + minutes * 60000);
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 16);
  };

  // --- details and connectors ---

  function renderDetails() {
    const s = station;
    $("#station-id").textContent = s.id;
    document.title = s.id + " · Charge Star console";
    const dd = (label, value, extra) => [el("dt", {}, label), el("dd", {}, value === null || value === undefined || value === "" ? el("span", { class: "muted" }, "–") : value, extra || null)];
    const since = (at) => at ? el("span", { class: "muted small" }, " (" + CS.time(at) + ")") : null;
    const site = live && live.site_name ? live.site_name : (s.site_id || "");
    clear($("#details")).append(...[
      dd("Connection", el("span", { id: "station-connected" }, s.connected ? "Connected" : "Offline")),
      dd("Protocol", s.protocol),
      dd("Vendor", s.vendor), dd("Model", s.model), dd("Serial number", s.serial_number || s.charge_box_serial_number),
      dd("Firmware", s.firmware_version),
      dd("Last seen", s.last_seen_at ? CS.ago(s.last_seen_at) : "never", since(s.last_seen_at)),
      dd("Last boot", s.last_boot_at ? CS.time(s.last_boot_at) : null),
      dd("Registration", s.registration_status), dd("Heartbeat", s.heartbeat_interval ? s.heartbeat_interval + " s" : null),
      dd("Firmware status", s.firmware_status, since(s.firmware_status_at)),
      dd("Diagnostics status", s.diagnostics_status, since(s.diagnostics_status_at)),
      dd("Site", site), dd("Meter", [s.meter_type, s.meter_serial_number].filter(Boolean).join(" · ")),
      dd("Basic auth", s.password_set ? "on" : "off"),
      s.retired_at ? dd("Retired", CS.time(s.retired_at)) : [],
    ].flat());
    const state = clear($("#station-state"));
    state.append(s.retired_at ? CS.badge("Retired", "st-unavailable") : s.connected ? CS.badge("Online", "st-available") : CS.badge("Offline", "st-offline"));
  }

  function renderConnectors() {
    const tbody = clear($("#connectors tbody"));
    const conns = live ? live.connectors : (station.connectors || []).map((c) => Object.assign({ session: null }, c));
    const connected = live ? live.connected : station.connected;
    if (!conns.length) tbody.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No connector reported yet.")));
    for (const c of conns) {
      const s = c.session;
      tbody.append(el("tr", { dataset: { connector: String(c.connector_id) } },
        el("td", {}, String(c.connector_id)),
        el("td", { class: "status" }, CS.badge(c.status || "Unknown", connected ? CS.statusClass(c.status) : "st-unknown"),
          c.error_code && c.error_code !== "NoError" ? el("div", { class: "error small" }, c.error_code) : null,
          connected ? null : el("div", { class: "muted small" }, "last reported; station offline")),
        el("td", {}, c.status_at ? CS.time(c.status_at) : "–"),
        el("td", {}, s ? [el("b", {}, CS.kwh(s.energy_wh)), " · ", s.power_w === null || s.power_w === undefined ? "– kW" : CS.kw(s.power_w),
          el("div", { class: "muted small" }, "since " + CS.time(s.started_at) + (s.id_tag ? " · " + s.id_tag : "")),
          el("div", { class: "muted small" }, s.id)] : el("span", { class: "muted" }, "–"))));
    }
    updateSessionChoices();
  }

  async function loadStation() {
    station = await CS.api("GET", stationPath);
    const board = await CS.api("GET", "/board" + CS.query({ station_id: id }, false));
    live = board.stations[0] || null;
    renderDetails();
    renderConnectors();
  }

  // --- remote management ---

  // Commands: one small form each. build returns the action and its
  // body; version-neutral actions (lower case) work for 1.6 and 2.x alike,
  // the others are picked by the station's protocol.
  const TRIGGERS = ["BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "FirmwareStatusNotification", "DiagnosticsStatusNotification"];
  const conn = (label, def) => ({ name: "connector", label: label || "Connector", type: "number", min: 0, value: def === undefined ? 1 : def });
  const COMMANDS = [
    { id: "reset", title: "Reset", button: "Reset", help: "Soft waits until the station is idle; hard reboots now.",
      fields: [{ name: "type", label: "Type", options: [["soft", "Soft"], ["hard", "Hard"]] }],
      build: (v) => ({ action: "reset", body: { type: v.type } }) },
    { id: "unlock", title: "Unlock connector", fields: [conn()],
      build: (v) => ({ action: "unlock", body: { connector_id: num(v.connector) } }) },
    { id: "availability", title: "Change availability", help: "Connector 0 is the whole station.",
      fields: [conn("Connector (0: station)", 0), { name: "operative", label: "Make it", options: [["true", "Operative"], ["false", "Inoperative"]] }],
      build: (v) => ({ action: "availability", body: { connector_id: num(v.connector), operative: v.operative === "true" } }) },
    { id: "start", title: "Remote start", fields: [conn(), { name: "id_token", label: "Id token", required: true, placeholder: "04A2B3C4" }],
      build: (v) => ({ action: "start", body: { connector_id: num(v.connector), id_token: v.id_token } }) },
    { id: "stop", title: "Remote stop", fields: [{ name: "session", label: "Session", required: true, list: "active-sessions", placeholder: "ses_…" }],
      build: (v) => ({ action: "stop", body: { session_id: v.session } }) },
    { id: "trigger", title: "Trigger message", fields: [{ name: "message", label: "Message", options: TRIGGERS.map((m) => [m, m]) },
      { name: "connector", label: "Connector (optional)", type: "number", min: 0 }],
      build: (v) => ({ action: "trigger", body: { message: v.message, connector_id: num(v.connector) } }) },
    { id: "get-config", title: "Get configuration", help: "1.6 keys, or Component.Variable for 2.x; comma separated. None reads all (1.6).",
      fields: [{ name: "keys", label: "Keys", placeholder: "HeartbeatInterval, MeterValueSampleInterval" }],
      build: (v) => ({ action: "get-configuration", body: { keys: v.keys ? v.keys.split(",").map((k) => k.trim()).filter(Boolean) : undefined } }) },
    { id: "set-config", title: "Set configuration", help: "1.6 ChangeConfiguration, 2.x SetVariables (key as Component.Variable).",
      fields: [{ name: "key", label: "Key", required: true }, { name: "value", label: "Value" }],
      build: (v) => ({ action: "set-configuration", body: { key: v.key, value: v.value } }) },
    { id: "clear-cache", title: "Clear authorization cache", fields: [], build: () => ({ action: "clear-cache", body: {} }) },
    { id: "firmware", title: "Update firmware",
      fields: [{ name: "location", label: "Firmware URL", type: "url", required: true, placeholder: "https://…/fw.bin" },
        { name: "at", label: "Retrieve at", type: "datetime-local", value: localInput(0) },
        { name: "retries", label: "Retries", type: "number", min: 0 }, { name: "interval", label: "Retry interval (s)", type: "number", min: 0 }],
      build: (v) => is2x()
        ? { action: "UpdateFirmware", body: { requestId: randomID(), firmware: { location: v.location, retrieveDateTime: iso(v.at) }, retries: num(v.retries), retryInterval: num(v.interval) } }
        : { action: "UpdateFirmware", body: { location: v.location, retrieveDate: iso(v.at), retries: num(v.retries), retryInterval: num(v.interval) } } },
    { id: "diagnostics", title: "Upload diagnostics / logs", help: "1.6 GetDiagnostics, 2.x GetLog.",
      fields: [{ name: "location", label: "Upload to (URL)", type: "url", required: true, placeholder: "ftp://… or https://…" },
        { name: "logType", label: "Log (2.x)", options: [["DiagnosticsLog", "Diagnostics"], ["SecurityLog", "Security"]], only: "2" },
        { name: "from", label: "From (optional)", type: "datetime-local" }, { name: "to", label: "To (optional)", type: "datetime-local" }],
      build: (v) => is2x()
        ? { action: "GetLog", body: { logType: v.logType, requestId: randomID(), log: { remoteLocation: v.location, oldestTimestamp: iso(v.from), latestTimestamp: iso(v.to) } } }
        : { action: "GetDiagnostics", body: { location: v.location, startTime: iso(v.from), stopTime: iso(v.to) } } },
    { id: "list-version", title: "Local list version", fields: [], build: () => ({ action: "GetLocalListVersion", body: {} }) },
    { id: "send-list", title: "Send local list", help: "One id token per line, optionally followed by its status (Accepted, Blocked, Expired, Invalid). An empty Full list clears it.",
      fields: [{ name: "version", label: "List version", type: "number", min: 0, value: 1, required: true },
        { name: "updateType", label: "Update", options: [["Full", "Full"], ["Differential", "Differential"]] },
        { name: "tokenType", label: "Token type (2.x)", options: [["ISO14443", "ISO14443"], ["ISO15693", "ISO15693"], ["Central", "Central"], ["Local", "Local"], ["KeyCode", "KeyCode"], ["eMAID", "eMAID"], ["MacAddress", "MacAddress"]], only: "2" },
        { name: "entries", label: "Entries", textarea: true, placeholder: "04A2B3C4 Accepted\n0B1C2D3E Blocked" }],
      build: (v) => {
        const rows = v.entries.split("\n").map((l) => l.trim().split(/\s+/)).filter((p) => p[0]);
        const list = rows.map(([tok, status]) => is2x()
          ? { idToken: { idToken: tok, type: v.tokenType }, idTokenInfo: { status: status || "Accepted" } }
          : { idTag: tok, idTagInfo: { status: status || "Accepted" } });
        return is2x()
          ? { action: "SendLocalList", body: { versionNumber: num(v.version), updateType: v.updateType, localAuthorizationList: list.length ? list : undefined } }
          : { action: "SendLocalList", body: { listVersion: num(v.version), updateType: v.updateType, localAuthorizationList: list.length ? list : undefined } };
      } },
    { id: "reserve", title: "Reserve now",
      fields: [conn(), { name: "id_token", label: "Id token", required: true }, { name: "minutes", label: "For (minutes)", type: "number", min: 1, value: 30 },
        { name: "reservation", label: "Reservation id", type: "number", min: 0, value: randomID() % 100000 }],
      build: (v) => {
        const expiry = new Date(Date.now() + num(v.minutes) * 60000).toISOString();
        return is2x()
          ? { action: "ReserveNow", body: { id: num(v.reservation), expiryDateTime: expiry, idToken: { idToken: v.id_token, type: "ISO14443" }, evseId: num(v.connector) || undefined } }
          : { action: "ReserveNow", body: { connectorId: num(v.connector), expiryDate: expiry, idTag: v.id_token, reservationId: num(v.reservation) } };
      } },
    { id: "cancel-reservation", title: "Cancel reservation", fields: [{ name: "reservation", label: "Reservation id", type: "number", min: 0, required: true }],
      build: (v) => ({ action: "CancelReservation", body: { reservationId: num(v.reservation) } }) },
    { id: "set-profile", title: "Set charging profile", help: "A one-period schedule: the limit applies from the start.",
      fields: [conn("Connector / EVSE (0: station)", 0), { name: "profile", label: "Profile id", type: "number", min: 1, value: 1, required: true },
        { name: "stack", label: "Stack level", type: "number", min: 0, value: 0 },
        { name: "purpose", label: "Purpose", options: [["TxDefaultProfile", "Default for sessions"], ["MaxProfile", "Station maximum"], ["TxProfile", "This session"]] },
        { name: "kind", label: "Kind", options: [["Relative", "Relative"], ["Absolute", "Absolute (from now)"]] },
        { name: "unit", label: "Unit", options: [["W", "W"], ["A", "A"]] }, { name: "limit", label: "Limit", type: "number", min: 0, step: "any", value: 11000, required: true }],
      build: (v) => {
        const purpose = v.purpose === "MaxProfile" ? (is2x() ? "ChargingStationMaxProfile" : "ChargePointMaxProfile") : v.purpose;
        const period = [{ startPeriod: 0, limit: num(v.limit) }];
        const start = v.kind === "Absolute" ? new Date().toISOString() : undefined;
        return is2x()
          ? { action: "SetChargingProfile", body: { evseId: num(v.connector), chargingProfile: { id: num(v.profile), stackLevel: num(v.stack), chargingProfilePurpose: purpose,
            chargingProfileKind: v.kind, chargingSchedule: [{ id: num(v.profile), startSchedule: start, chargingRateUnit: v.unit, chargingSchedulePeriod: period }] } } }
          : { action: "SetChargingProfile", body: { connectorId: num(v.connector), csChargingProfiles: { chargingProfileId: num(v.profile), stackLevel: num(v.stack),
            chargingProfilePurpose: purpose, chargingProfileKind: v.kind, chargingSchedule: { startSchedule: start, chargingRateUnit: v.unit, chargingSchedulePeriod: period } } } };
      } },
    { id: "clear-profile", title: "Clear charging profile", help: "By id, or by connector, purpose and stack level; all empty clears every profile.",
      fields: [{ name: "profile", label: "Profile id", type: "number", min: 0 }, { name: "connector", label: "Connector / EVSE", type: "number", min: 0 },
        { name: "purpose", label: "Purpose", options: [["", "any"], ["TxDefaultProfile", "Default for sessions"], ["MaxProfile", "Station maximum"], ["TxProfile", "This session"]] },
        { name: "stack", label: "Stack level", type: "number", min: 0 }],
      build: (v) => {
        const purpose = v.purpose === "MaxProfile" ? (is2x() ? "ChargingStationMaxProfile" : "ChargePointMaxProfile") : (v.purpose || undefined);
        if (!is2x()) return { action: "ClearChargingProfile", body: { id: num(v.profile), connectorId: num(v.connector), chargingProfilePurpose: purpose, stackLevel: num(v.stack) } };
        const crit = { evseId: num(v.connector), chargingProfilePurpose: purpose, stackLevel: num(v.stack) };
        const any = Object.values(crit).some((x) => x !== undefined);
        return { action: "ClearChargingProfile", body: { chargingProfileId: num(v.profile), chargingProfileCriteria: any ? crit : undefined } };
      } },
    { id: "composite", title: "Composite schedule", fields: [conn("Connector / EVSE (0: station)", 0),
      { name: "duration", label: "Duration (s)", type: "number", min: 1, value: 3600, required: true }, { name: "unit", label: "Unit", options: [["", "station's choice"], ["W", "W"], ["A", "A"]] }],
      build: (v) => is2x()
        ? { action: "GetCompositeSchedule", body: { evseId: num(v.connector), duration: num(v.duration), chargingRateUnit: v.unit || undefined } }
        : { action: "GetCompositeSchedule", body: { connectorId: num(v.connector), duration: num(v.duration), chargingRateUnit: v.unit || undefined } } },
    { id: "base-report", title: "Get base report", only: "2", fields: [{ name: "base", label: "Report", options: [["FullInventory", "Full inventory"], ["ConfigurationInventory", "Configuration"], ["SummaryInventory", "Summary"]] }],
      build: (v) => ({ action: "GetBaseReport", body: { requestId: randomID(), reportBase: v.base } }) },
    { id: "advanced", title: "Advanced: any command", wide: true, help: "Any OCPP action of the station's version with its JSON payload, checked against the action's schema before it is sent.",
      fields: [{ name: "action", label: "Action", required: true, list: "known-actions", placeholder: "DataTransfer" }, { name: "payload", label: "Payload (JSON)", textarea: true, value: "{}" }],
      build: (v) => {
        let body;
        try { body = JSON.parse(v.payload || "{}"); } catch (e) { throw new Error("The payload is not valid JSON: " + e.message); }
        return { action: v.action.trim(), body };
      } },
  ];

  const ACTIONS_16 = ["CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache", "ClearChargingProfile", "DataTransfer", "GetCompositeSchedule",
    "GetConfiguration", "GetDiagnostics", "GetLocalListVersion", "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList",
    "SetChargingProfile", "TriggerMessage", "UnlockConnector", "UpdateFirmware", "ExtendedTriggerMessage", "GetLog", "SignedUpdateFirmware",
    "InstallCertificate", "DeleteCertificate", "GetInstalledCertificateIds", "CertificateSigned"];
  const ACTIONS_2 = ["CancelReservation", "CertificateSigned", "ChangeAvailability", "ClearCache", "ClearChargingProfile", "ClearDisplayMessage", "ClearVariableMonitoring",
    "CostUpdated", "CustomerInformation", "DataTransfer", "DeleteCertificate", "GetBaseReport", "GetChargingProfiles", "GetCompositeSchedule", "GetDisplayMessages",
    "GetInstalledCertificateIds", "GetLocalListVersion", "GetLog", "GetMonitoringReport", "GetReport", "GetTransactionStatus", "GetVariables", "InstallCertificate",
    "PublishFirmware", "RequestStartTransaction", "RequestStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile", "SetDisplayMessage",
    "SetMonitoringBase", "SetMonitoringLevel", "SetNetworkProfile", "SetVariableMonitoring", "SetVariables", "TriggerMessage", "UnlockConnector", "UnpublishFirmware", "UpdateFirmware"];

  // send posts a command and answers {status, response, action}; it
  // throws APIError (409 not connected, 504 timeout, 400 invalid…).
  const send = (action, body) => CS.api("POST", stationPath + "/commands/" + encodeURIComponent(action), body);

  function errorText(e) {
    const why = { 409: "Not connected: ", 504: "No answer in time: ", 400: "Refused: ", 502: "The station answered with an error: ", 403: "Not allowed: " }[e.status] || "";
    return why + (e.message || String(e)) + (e.status ? " (" + e.status + (e.code ? " " + e.code : "") + ")" : "");
  }

  function showResult(box, res) {
    const ok = /^(Accepted|Unlocked|Scheduled|RebootRequired|Idle)$/.test(res.status);
    clear(box).append(el("div", { class: "row" }, CS.badge(res.status, ok ? "st-available" : "st-faulted"),
      res.action ? el("span", { class: "muted small" }, "sent as " + res.action) : null),
    el("pre", { class: "response" }, pretty(res.response)));
  }

  function field(cmd, f) {
    const fid = "cmd-" + cmd.id + "-" + f.name;
    let input;
    if (f.options) {
      input = el("select", { id: fid, name: f.name }, f.options.map(([v, t]) => el("option", { value: v }, t)));
    } else if (f.textarea) {
      input = el("textarea", { id: fid, name: f.name, rows: 4, placeholder: f.placeholder, spellcheck: "false" });
      if (f.value !== undefined) input.value = f.value;
    } else {
      input = el("input", { id: fid, name: f.name, type: f.type || "text", min: f.min, step: f.step, required: f.required, list: f.list,
        placeholder: f.placeholder, value: f.value, autocomplete: "off" });
    }
    return el("div", { class: "field", dataset: f.only ? { only: f.only } : {} }, el("label", { for: fid }, f.label), input);
  }

  function commandForm(cmd) {
    const result = el("div", { class: "cmd-result", "aria-live": "polite" });
    const button = el("button", { type: "submit", class: "primary" }, cmd.button || "Send");
    const form = el("form", { id: "cmd-" + cmd.id, class: "card cmd" + (cmd.wide ? " wide" : ""), dataset: cmd.only ? { only: cmd.only } : {} },
      el("h3", {}, cmd.title), cmd.help ? el("p", { class: "muted small" }, cmd.help) : null,
      el("div", { class: "fields" }, cmd.fields.map((f) => field(cmd, f))),
      el("div", { class: "row" }, button), result);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const v = {};
      for (const f of cmd.fields) v[f.name] = form.elements[f.name].value.trim();
      let req;
      try { req = cmd.build(v); } catch (e) { clear(result).append(el("p", { class: "error" }, e.message)); return; }
      button.disabled = true;
      clear(result).append(el("p", { class: "muted small" }, "Sent " + req.action + "; waiting for the station…"));
      try {
        showResult(result, await send(req.action, req.body));
      } catch (e) {
        clear(result).append(el("p", { class: "error" }, errorText(e)));
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  function renderRemote() {
    const box = $("#remote");
    if (!canOperate) { box.hidden = true; box.remove(); return; }
    box.hidden = false;
    const forms = clear($("#remote-forms"));
    forms.append(el("datalist", { id: "active-sessions" }), el("datalist", { id: "known-actions" }));
    for (const cmd of COMMANDS) forms.append(commandForm(cmd));
    applyProtocol();
  }

  // applyProtocol shows the fields and forms of the station's version.
  function applyProtocol() {
    const two = is2x();
    for (const e of CS.$$("[data-only]")) e.hidden = (e.dataset.only === "2") !== two;
    const dl = $("#known-actions"), note = $("#remote-note");
    if (!note) return; // no remote management for this role
    if (dl) clear(dl).append(...(two ? ACTIONS_2 : ACTIONS_16).map((a) => el("option", { value: a })));
    note.textContent = station
      ? (station.protocol ? "Commands are sent in " + station.protocol + "." : "The station never connected: commands assume OCPP 1.6.") +
        (station.connected ? "" : " It is offline now: commands answer 409 until it connects.")
      : "";
  }

  function updateSessionChoices() {
    const dl = $("#active-sessions");
    if (!dl || !live) return;
    clear(dl).append(...live.connectors.filter((c) => c.session).map((c) =>
      el("option", { value: c.session.id }, "#" + c.connector_id + " " + (c.session.id_tag || ""))));
  }

  // --- device configuration ---

  let configRows = [], configCols = [];

  function renderConfig() {
    const table = $("#config-table");
    table.hidden = configRows.length === 0;
    clear(table.querySelector("thead tr")).append(...configCols.map((c) => el("th", {}, c[0])), el("th", {}, ""));
    const q = $("#config-filter").value.trim().toLowerCase();
    const tbody = clear(table.querySelector("tbody"));
    for (const r of configRows) {
      const cells = configCols.map((c) => r[c[1]]);
      if (q && !cells.join(" ").toLowerCase().includes(q)) continue;
      const edit = canOperate && r.writable
        ? el("button", { type: "button", class: "small", onclick: () => editConfig(r.key, r.value) }, "Change") : null;
      tbody.append(el("tr", {}, cells.map((v) => el("td", { class: "mono" }, v === undefined || v === null ? "" : String(v))), el("td", {}, edit)));
    }
  }

  // editConfig fills the set-configuration form.
  function editConfig(key, value) {
    const form = $("#cmd-set-config");
    if (!form) return;
    form.elements.key.value = key;
    form.elements.value.value = value || "";
    form.scrollIntoView({ block: "center" });
    form.elements.value.focus();
  }

  async function readConfig16() {
    $("#config-note").textContent = "Asking the station (GetConfiguration)…";
    try {
      const res = await send("get-configuration", {});
      const keys = (res.response && res.response.configurationKey) || [];
      configCols = [["Key", "key"], ["Value", "value"], ["Read-only", "ro"]];
      configRows = keys.map((k) => ({ key: k.key, value: k.value, ro: k.readonly ? "yes" : "no", writable: !k.readonly }))
        .sort((a, b) => a.key.localeCompare(b.key));
      const unknown = (res.response && res.response.unknownKey) || [];
      $("#config-note").textContent = configRows.length + " keys, read " + new Date().toLocaleTimeString("en-AU") + (unknown.length ? "; unknown: " + unknown.join(", ") : "") + ".";
      renderConfig();
    } catch (e) {
      $("#config-note").textContent = errorText(e);
    }
  }

  async function loadVariables() {
    const page = await CS.api("GET", stationPath + "/variables");
    configCols = [["Component", "component"], ["Variable", "variable"], ["Attribute", "attr"], ["Value", "value"], ["Mutability", "mutability"], ["Updated", "updated"]];
    configRows = page.items.map((x) => ({
      component: x.component + (x.component_instance ? "/" + x.component_instance : "") + (x.evse_id ? " EVSE " + x.evse_id : "") + (x.connector_id ? " #" + x.connector_id : ""),
      variable: x.variable + (x.variable_instance ? "/" + x.variable_instance : ""), attr: x.attribute_type, value: x.value,
      mutability: x.mutability || "", updated: CS.time(x.updated_at), writable: x.mutability !== "ReadOnly" && x.attribute_type === "Actual" && !x.component_instance && !x.variable_instance && !x.evse_id,
      key: x.component + "." + x.variable,
    }));
    $("#config-note").textContent = configRows.length
      ? configRows.length + " variable attributes, as the station last reported them."
      : "Nothing reported yet." + (canOperate ? " Run GetBaseReport to ask the station for its device model." : "");
    renderConfig();
  }

  async function runBaseReport() {
    $("#config-note").textContent = "Asking the station for its full inventory (GetBaseReport)…";
    try {
      const res = await send("GetBaseReport", { requestId: randomID(), reportBase: "FullInventory" });
      $("#config-note").textContent = "GetBaseReport: " + res.status + ". The station reports in NotifyReport messages; reloading shortly.";
      setTimeout(() => CS.run(loadVariables), 3000);
    } catch (e) {
      $("#config-note").textContent = errorText(e);
    }
  }

  function setupConfig() {
    $("#config-filter").addEventListener("input", renderConfig);
    if (is2x()) {
      $("#config-reload").hidden = false;
      $("#config-reload").addEventListener("click", () => CS.run(loadVariables));
      if (canOperate) {
        $("#config-report").hidden = false;
        $("#config-report").addEventListener("click", runBaseReport);
      }
      return CS.run(loadVariables);
    }
    if (canOperate) {
      $("#config-read").hidden = false;
      $("#config-read").addEventListener("click", readConfig16);
      $("#config-note").textContent = "OCPP 1.6 stations keep their configuration themselves: read it with GetConfiguration.";
    } else {
      $("#config-note").textContent = "Reading a 1.6 station's configuration is a command: your role cannot send commands.";
    }
  }

  // --- sessions, status events, message log ---

  async function loadSessions() {
    const page = await CS.api("GET", "/sessions" + CS.query({ station_id: id, limit: 20 }, false));
    const tbody = clear($("#sessions tbody"));
    if (!page.items.length) tbody.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "No sessions yet.")));
    for (const s of page.items) {
      tbody.append(el("tr", {},
        el("td", {}, CS.time(s.started_at)), el("td", {}, String(s.connector_id)), el("td", { class: "mono" }, s.id_tag || "–"),
        el("td", {}, CS.badge(s.status, s.status === "active" ? "st-charging" : "st-unknown")),
        el("td", { class: "num" }, CS.kwh(s.energy_wh)), el("td", {}, s.stopped_at ? CS.time(s.stopped_at) : "–"),
        el("td", {}, s.stop_reason || ""), el("td", { class: "mono small" }, s.id)));
    }
  }

  async function loadStatusEvents() {
    const days = Number($("#status-range").value);
    const since = new Date(Date.now() - days * 86400000).toISOString();
    let items = [], cursor = "";
    for (let i = 0; i < 40; i++) { // up to 20 000 events
      const page = await CS.api("GET", stationPath + "/status-events" + CS.query({ since, limit: 500, cursor }, false));
      items = items.concat(page.items);
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    items.reverse(); // newest first
    const tbody = clear($("#status-events tbody"));
    if (!items.length) tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No status notifications in this range.")));
    for (const e of items.slice(0, 300)) {
      tbody.append(el("tr", {}, el("td", { title: "received " + CS.time(e.received_at) }, CS.time(e.timestamp)),
        el("td", {}, e.connector_id === 0 ? "station" : String(e.connector_id)), el("td", {}, CS.badge(e.status, CS.statusClass(e.status))),
        el("td", {}, e.error_code === "NoError" ? "" : e.error_code), el("td", {}, [e.info, e.vendor_id, e.vendor_error_code].filter(Boolean).join(" · "))));
    }
    if (items.length > 300) tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, (items.length - 300) + " older events not shown; narrow the range.")));
  }

  const TYPES = { 2: "CALL", 3: "RESULT", 4: "ERROR", 5: "RESULT ERROR", 6: "SEND" };
  let logCursor = "";
  const logActions = new Set();

  async function loadLog(more) {
    if (!more) { logCursor = ""; clear($("#log")); }
    const q = { action: $("#log-action").value.trim(), q: $("#log-q").value, limit: 50, cursor: logCursor };
    const page = await CS.api("GET", stationPath + "/messages" + CS.query(q, false));
    for (const m of page.items) {
      if (m.action && !logActions.has(m.action)) { logActions.add(m.action); $("#log-actions").append(el("option", { value: m.action })); }
      let frame = m.frame;
      try { frame = pretty(JSON.parse(m.frame)); } catch (_) { /* kept verbatim */ }
      $("#log").append(el("li", { class: "msg " + m.direction },
        el("details", {}, el("summary", {},
          el("span", { class: "at" }, CS.time(m.at)), " ",
          el("span", { class: "dir", title: m.direction === "in" ? "from the station" : "to the station" }, m.direction === "in" ? "←" : "→"), " ",
          el("span", { class: "type" }, TYPES[m.message_type] || String(m.message_type)), " ",
          el("b", {}, m.action || ""), " ", el("span", { class: "muted small mono" }, m.message_id)),
        el("pre", {}, frame))));
    }
    if (!page.items.length && !more) $("#log").append(el("li", { class: "muted" }, "No messages match."));
    logCursor = page.next_cursor || "";
    $("#log-more").hidden = !logCursor;
  }

  // --- live updates ---

  let source = null, opened = false, sessionsTimer = null;

  function setLive(state, text) {
    $("#live").dataset.state = state;
    $("#live-text").textContent = text;
  }

  function connect() {
    if (source) source.close();
    opened = false;
    source = new EventSource("/api/v1/board/events" + CS.query({ station_id: id }, false));
    source.addEventListener("open", () => {
      setLive("live", "Live");
      if (opened) CS.run(loadStation);
      opened = true;
    });
    source.addEventListener("station", (e) => {
      const b = JSON.parse(e.data);
      if (b.id !== id) return;
      const wasConnected = station.connected, hadSessions = live ? live.connectors.filter((c) => c.session).map((c) => c.session.id).join() : "";
      live = b;
      station.connected = b.connected;
      station.last_seen_at = b.last_seen_at;
      station.protocol = b.protocol;
      station.vendor = b.vendor; station.model = b.model; station.firmware_version = b.firmware_version;
      renderDetails();
      renderConnectors();
      if (wasConnected !== b.connected) { applyProtocol(); CS.run(loadStation); }
      // A session started or ended: the list below changes.
      if (b.connectors.filter((c) => c.session).map((c) => c.session.id).join() !== hadSessions) {
        clearTimeout(sessionsTimer);
        sessionsTimer = setTimeout(() => CS.run(loadSessions), 500);
      }
    });
    source.addEventListener("reload", () => CS.run(loadStation));
    source.addEventListener("error", () => {
      setLive("down", "Reconnecting…");
      if (source.readyState === EventSource.CLOSED) setTimeout(async () => { await CS.run(loadStation); connect(); }, 5000);
    });
  }

  CS.page(async () => {
    try {
      await loadStation();
    } catch (e) {
      if (e.status === 404) { $("#station-missing").hidden = false; setLive("down", "–"); return; }
      throw e;
    }
    $("#station-body").hidden = false;
    renderRemote();
    connect();
    $("#log-filters").addEventListener("submit", (e) => { e.preventDefault(); CS.run(() => loadLog(false)); });
    $("#log-more").addEventListener("click", () => CS.run(() => loadLog(true)));
    $("#status-range").addEventListener("change", () => CS.run(loadStatusEvents));
    await Promise.all([setupConfig(), CS.run(loadSessions), CS.run(loadStatusEvents), CS.run(() => loadLog(false))]);
  });
})();
