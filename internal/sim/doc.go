// Package sim simulates OCPP charging stations: one realistic station for
// a test, a fleet for the demo, or 18,000 for a benchmark of the server.
// It is the library behind `chargestar sim`.
//
// A Station (NewStation, Run) is an OCPP 1.6-J charge point. It dials
// <URL>/<ID> with subprotocol ocpp1.6 (Basic authentication when it has a
// password), boots (honouring Pending and Rejected and the interval it is
// given), reports every connector's status, heartbeats, and — in
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
// Tests script unusual behaviour with Rules (answer an action with a
// fixed payload, or never answer it) and Config.Now (a fixed clock), and
// follow completed sessions with Config.OnSession.
//
// A Fleet (NewFleet, Run) is Count stations <IDPrefix><n> sharing one
// configuration, one scheduler (a single timer wakes every station: no
// timer per station) and one set of counters (Stats), connected at most
// Concurrency at a time. Its connections can be spread over several
// source addresses (LocalAddrs) so that 18,000 connections to one server
// port do not run out of ephemeral ports.
//
// Run runs a fleet in a mode and reports: ModeSessions, ModeClosedLoop
// (one MeterValues in flight per station, as fast as answered),
// ModeOpenLoop (MeterValues at a fixed rate, latency measured from the
// intended sending time so that a slow server cannot hide its queueing —
// no coordinated omission), ModeStorm (drop every connection at once and
// time the reconnection). Latencies go into a Histogram of fixed size;
// with a metrics URL the server's CPU per message and memory per station
// are reported. Provision creates the stations and their id tags through
// the REST API.
//
// The OCPP version is behind the protocol interface (protocol.go): the
// station decides what happens, ocpp16 says it in 1.6 messages and reads
// the CSMS's 1.6 commands. OCPP 2.0.1 and 2.1 are further
// implementations of that interface.
package sim
