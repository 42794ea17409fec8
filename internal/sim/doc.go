// Package sim simulates OCPP charging stations: one realistic station for
// a test, a fleet for the demo, or 18,000 for a benchmark of the server.
// It is the library behind `chargestar sim`.
//
// A Station (NewStation, Run) is an OCPP-J charging station speaking 1.6,
// 2.0.1 or 2.1 (Config.Protocol). It dials <URL>/<ID> with that
// subprotocol (Basic authentication when it has a password), boots
// (honouring Pending and Rejected and the interval it is given), reports
// every connector's status, heartbeats, and — in
// ModeSessions — lets drivers charge: Authorize, Preparing,
// StartTransaction, Charging, MeterValues every MeterInterval (energy
// register rising at the configured power, with power, voltage and
// current per phase and the EV's state of charge), StopTransaction with
// transaction data (reason Local, or EVDisconnected when the driver
// unplugs), Finishing, Available, and an idle gap. It answers every OCPP
// 1.6 command of the CSMS (core, firmware, local list, reservation,
// remote trigger, smart charging and the security whitepaper's), each
// answer checked against its schema before it is sent; what a command
// sets off (a transaction, a reboot, a triggered message, a firmware
// update's notifications) happens after the answer is on the wire.
// Transaction messages produced while offline are queued and delivered
// in order after the reconnection; reconnection uses exponential backoff
// with full jitter.
//
// In OCPP 2.0.1 and 2.1 the same station is told in 2.x terms (ocpp2x.go):
// each connector is an EVSE with one connector (evseId = the connector
// number), its status Available, Occupied (cable in: 1.6 Preparing,
// Charging, Suspended*, Finishing), Reserved, Unavailable or Faulted. The
// BootNotification gives the reason (PowerUp, RemoteReset,
// FirmwareUpdate, Triggered). A transaction is a TransactionEvent Started
// (triggerReason Authorized, or RemoteStart with the remoteStartId;
// evse, idToken of type ISO14443, the Transaction.Begin reading), Updated
// every MeterInterval (MeterValuePeriodic, Sample.Periodic readings) or
// when the EV suspends or resumes (ChargingStateChanged), and Ended
// (stoppedReason Local with StopAuthorized, EVDisconnected with
// EVDeparted, Remote with RemoteStop, ...; the Transaction.End reading),
// under a transactionId the station makes up (a UUID) and a seqNo from 0
// per transaction; events produced offline carry offline=true. The CSMS's
// 2.x commands are answered (remote start and stop, reset Immediate or
// OnIdle, of the station or an EVSE, availability, triggers, the device
// model through GetVariables, SetVariables, GetBaseReport and GetReport
// with NotifyReport, firmware and log jobs, local list, reservations,
// smart charging, cost); the rest of 2.x is answered NotSupported. 2.1
// also takes tariffs and obeys a transactionLimit in a
// TransactionEventResponse: confirmed with LimitSet, it ends the
// transaction with EnergyLimitReached, TimeLimitReached, SOCLimitReached
// or, for maxCost (against the cost the CSMS reports in totalCost or
// CostUpdated), triggerReason CostLimitReached and stoppedReason
// LocalOutOfCredit (2.1 has no CostLimitReached stoppedReason). Every
// payload is checked against the negotiated version's schema before it
// is sent.
//
// Tests script unusual behaviour with Rules (answer an action with a
// fixed payload, or never answer it) and Config.Now (a fixed clock), and
// follow completed sessions with Config.OnSession.
//
// A Fleet (NewFleet, Run) is Count stations <IDPrefix><n> sharing one
// configuration (but for the protocol, when FleetConfig.Protocols or
// ProtocolMixed deals the versions out round-robin), one scheduler (a single timer wakes every station: no
// timer per station) and one set of counters (Stats), connected at most
// Concurrency at a time. Its connections can be spread over several
// source addresses (LocalAddrs) so that 18,000 connections to one server
// port do not run out of ephemeral ports.
//
// Run runs a fleet in a mode and reports: ModeSessions, ModeClosedLoop
// (one MeterValues in flight per station, as fast as answered),
// ModeOpenLoop (MeterValues at a fixed rate, latency measured from the
// intended sending time so that a slow server cannot hide its queueing —
// no coordinated omission; in both, a 2.x station sends TransactionEvent
// Updated with triggerReason MeterValuePeriodic, its meter-values
// message within a transaction), ModeStorm (drop every connection at once and
// time the reconnection). Latencies go into a Histogram of fixed size;
// with a metrics URL the server's CPU per message and memory per station
// are reported. Provision creates the stations and their id tags through
// the REST API.
//
// The OCPP version is behind the protocol interface (protocol.go): the
// station decides what happens, ocpp16 says it in 1.6 messages and reads
// the CSMS's 1.6 commands, ocpp2x does so for 2.0.1 and 2.1 — one
// implementation for both, since the messages are alike; the generated
// types of the two versions serve to check every payload
// (ocpp2x_msg.go). What a command does to the station is version-neutral
// (commands.go); the 2.x device-model variables that mean a 1.6
// configuration key read and write that key.
package sim
